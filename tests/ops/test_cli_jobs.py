"""``taskward jobs list`` and ``jobs show``: tables for people, JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

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
def test_tables_for_people(database_url: str, finished: dict[str, str]) -> None:
    listed = run_cli("jobs", "list", "-d", database_url)
    assert listed.returncode == 0, listed.stderr
    assert "3 jobs, newest first" in listed.stdout
    for state, job_id in finished.items():
        row = next(line for line in listed.stdout.splitlines() if job_id in line)
        assert state in row

    shown = run_cli("jobs", "show", finished["discarded"], "-d", database_url)
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


def test_an_unknown_job_is_one_line(sqlite_database: str) -> None:
    job_id = "0190f0a0-0000-7000-8000-000000000000"
    result = run_cli("jobs", "show", job_id, "-d", sqlite_database)
    assert result.returncode == 1
    assert f"no job with id {job_id}" in one_line_error(result)
