"""``taskward enqueue``: the job id out, or one line naming the bad field and nothing written."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from taskward.core import JobState, Taskward
from tests.ops.conftest import count_rows, one_line_error, run_cli


def test_enqueue_prints_the_id_of_a_stored_job(database_url: str, shop_dir: Path) -> None:
    result = run_cli(
        "enqueue",
        "shop.add",
        "--args",
        "[1, 2]",
        "--app",
        "shop:app",
        "-d",
        database_url,
        cwd=shop_dir,
    )
    assert result.returncode == 0, result.stderr
    job_id = uuid.UUID(result.stdout.strip())

    delayed = run_cli(
        "enqueue", "shop.add", "--kwargs", '{"a": 1, "b": 2}', "--queue", "slow",
        "--priority", "3", "--in", "60", "--max-attempts", "2", "--json",
        "--app", "shop:app", "--database", database_url,
        cwd=shop_dir,
    )  # fmt: skip
    assert delayed.returncode == 0, delayed.stderr
    shown = json.loads(delayed.stdout)
    assert (shown["state"], shown["queue"], shown["priority"]) == ("scheduled", "slow", 3)
    assert (shown["kwargs"], shown["max_attempts"]) == ({"a": 1, "b": 2}, 2)

    app = Taskward(database_url)
    try:
        stored = app.get_job(job_id)
        assert (stored.task, stored.args, stored.state) == ("shop.add", [1, 2], JobState.AVAILABLE)
        assert app.get_job(shown["id"]).state is JobState.SCHEDULED
    finally:
        app.close()


BAD_INPUT = {
    "args not JSON": (["--args", "[1, 2"], "invalid --args: not valid JSON"),
    "kwargs not an object": (["--kwargs", "[1]"], "invalid --kwargs: must be a JSON object"),
    "args not serialisable": (["--args", "[NaN]"], "invalid --args: not JSON-serialisable"),
    "unknown task": (["--task-name", "shop.nope"], "invalid TASK: no task named 'shop.nope'"),
    "priority out of range": (["--priority", "12"], "invalid --priority: must be an integer"),
    "negative delay": (["--in", "-5"], "invalid --in: delay must be a non-negative number"),
    "no such app": (["--app", "nowhere:app"], "invalid --app: 'nowhere:app': no module named"),
}


def _enqueue_args(extra: list[str], url: str) -> list[str]:
    task, app = "shop.add", "shop:app"
    if extra[0] == "--task-name":
        task, extra = extra[1], []
    elif extra[0] == "--app":
        app, extra = extra[1], []
    return ["enqueue", task, "--args", "[1, 2]", "--app", app, "--database", url, *extra]


# Validation does not depend on the dialect: every case on SQLite, two on PostgreSQL.
CASES = [(case, "sqlite") for case in BAD_INPUT] + [
    ("unknown task", "postgresql"),
    ("priority out of range", "postgresql"),
]


@pytest.mark.parametrize(("case", "dialect"), CASES)
def test_bad_input_names_the_field_exits_2_and_writes_nothing(
    case: str, dialect: str, shop_dir: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(f"{dialect}_database")
    extra, message = BAD_INPUT[case]
    result = run_cli(*_enqueue_args(extra, url), cwd=shop_dir)
    assert result.returncode == 2
    assert message in one_line_error(result)
    assert result.stdout == ""
    assert count_rows(url) == 0
