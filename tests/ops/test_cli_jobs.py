"""``taskward jobs list`` and ``jobs show``: tables for people, JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import yaml

from taskward.core import Taskward
from taskward.core.testing import drain
from tests.ops.conftest import one_line_error, run_cli


@pytest.fixture
def finished(database_url: str) -> Iterator[dict[str, str]]:
    """A completed, a discarded (with a traceback) and a scheduled job; their ids by state."""
    app = Taskward(database_url)

    @app.task(name="shop.add")
    def add(a: int, b: int) -> int:
        return a + b

    @app.task(name="shop.fail", queue="risky", max_attempts=1)
    def fail(message: str) -> None:
        raise ValueError(message)

    ids = {
        "completed": str(add.enqueue(1, 2).id),
        "discarded": str(fail.enqueue("boom: the disk is full").id),
    }
    drain(app)
    ids["scheduled"] = str(add.options(in_=3600).enqueue(5, 6).id)
    app.close()
    return ids


def _json(*args: str) -> object:
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_jobs_list_json_filters(database_url: str, finished: dict[str, str]) -> None:
    everything = _json("jobs", "list", "--json", "-d", database_url)
    assert isinstance(everything, list)
    assert [j["id"] for j in everything] == [
        finished["scheduled"],
        finished["discarded"],
        finished["completed"],
    ]  # newest first
    assert {j["id"]: j["state"] for j in everything} == {v: k for k, v in finished.items()}

    discarded = _json("jobs", "list", "--state", "discarded", "--json", "-d", database_url)
    assert [(j["id"], j["queue"]) for j in discarded] == [(finished["discarded"], "risky")]  # type: ignore[index]

    one = _json(
        "jobs", "list", "--queue", "default", "--task", "shop.add", "--limit", "1", "--json",
        "-d", database_url,
    )  # fmt: skip
    assert [j["id"] for j in one] == [finished["scheduled"]]  # type: ignore[index]


def test_jobs_show_json_has_errors_result_and_events(
    database_url: str, finished: dict[str, str]
) -> None:
    failed = _json("jobs", "show", finished["discarded"], "--json", "-d", database_url)
    assert isinstance(failed, dict)
    [error] = failed["errors"]
    assert (error["attempt"], error["type"]) == (1, "ValueError")
    assert "Traceback (most recent call last)" in error["traceback"]
    assert "raise ValueError(message)" in error["traceback"]
    assert [e["name"] for e in failed["events"]] == [
        "taskward.job.inserted",
        "taskward.job.started",
        "taskward.job.discarded",
    ]

    done = _json("jobs", "show", finished["completed"], "--json", "-d", database_url)
    assert isinstance(done, dict)
    assert (done["state"], done["result"], done["args"]) == ("completed", 3, [1, 2])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_tables_for_people_fit_80_columns(database_url: str, finished: dict[str, str]) -> None:
    listed = run_cli("jobs", "list", "-d", database_url, COLUMNS="80")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert "3 jobs, newest first" in lines[0]
    assert max(len(line.rstrip()) for line in lines) <= 80
    for state, job_id in finished.items():  # one line per job, its id's end shown
        [row] = [line for line in lines if f"…{job_id[-8:]}" in line]
        assert state in row
    assert "…" in next(line for line in lines if finished["discarded"][-8:] in line)  # cut

    wide = run_cli("jobs", "list", "--wide", "-d", database_url, COLUMNS="80")
    for state, job_id in finished.items():  # whole ids, whole arguments, never wrapped
        [row] = [line for line in wide.stdout.splitlines() if job_id in line]
        assert state in row
    assert '"boom: the disk is full"' in wide.stdout

    # What a table shows of an id is enough to name the job.
    shown = run_cli("jobs", "show", f"…{finished['discarded'][-8:]}", "-d", database_url)
    assert shown.returncode == 0, shown.stderr
    for text in (
        f"job {finished['discarded']}",
        "error, attempt 1",
        "boom: the disk is full",
        "Traceback (most recent call last)",
        "taskward.job.discarded",
        "events (outbox)",
    ):
        assert text in shown.stdout


def test_output_yaml_and_json_agree(database_url: str, finished: dict[str, str]) -> None:
    as_json = _json("jobs", "list", "--output", "json", "-d", database_url)
    result = run_cli("jobs", "list", "-o", "yaml", "-d", database_url)
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout) == as_json


def test_an_unknown_job_is_one_line(sqlite_database: str) -> None:
    job_id = "0190f0a0-0000-7000-8000-000000000000"
    result = run_cli("jobs", "show", job_id, "-d", sqlite_database)
    assert result.returncode == 1
    assert f"no job with id {job_id}" in one_line_error(result)
