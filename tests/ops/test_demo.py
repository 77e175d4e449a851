"""``taskward up --demo`` (``make run``): a short line per outcome (or JSON), a clean stop."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from tests.ops.conftest import Processes, run_cli

REQUIRED = {"timestamp", "severity_text", "event_name", "message"}
JOB_KEYS = {
    "taskward.job.id",
    "taskward.queue",
    "taskward.task.name",
    "taskward.job.attempt",
    "taskward.job.state",
}


def _records(stdout: str) -> list[dict[str, object]]:
    records = [json.loads(line) for line in stdout.splitlines()]
    for record in records:
        assert record.keys() >= REQUIRED, record
        if str(record["event_name"]).startswith("taskward.job."):
            assert record.keys() >= JOB_KEYS, record
    return records


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_demo_once_prints_every_ending_as_json_lines(
    dialect: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    args = ["up", "--demo", "--once", "--log-events", "--metrics-port", "0"]
    if dialect == "postgresql":
        args += ["--database", request.getfixturevalue("empty_postgresql")]
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    if dialect == "sqlite":
        assert (tmp_path / ".taskward" / "taskward.db").is_file()  # the one default database

    records = _records(result.stdout)
    names = {r["event_name"] for r in records}
    assert {
        "taskward.job.completed",
        "taskward.job.failed",
        "taskward.job.discarded",
        "taskward.job.cancelled",
        "taskward.worker.started",
        "taskward.worker.stopped",
    } <= names

    def last(task: str) -> dict[str, object]:
        return [r for r in records if r.get("taskward.task.name") == task][-1]

    charged = last("demo.charge")  # failed twice, then completed
    assert (charged["event_name"], charged["taskward.job.attempt"]) == ("taskward.job.completed", 3)
    timed_out = last("demo.render_report")
    assert timed_out["exception.type"] == "taskward.core.errors.JobTimeoutError"
    assert timed_out["taskward.job.outcome"] == "discarded"
    bad_rows = last("demo.import_rows")
    assert (bad_rows["exception.type"], bad_rows["taskward.job.attempt"]) == ("ValueError", 1)
    assert last("demo.apply_coupon")["taskward.job.reason"] == "coupon SPRING-2020 has expired"
    assert "batch done: 1 cancelled, 4 completed, 2 discarded" in result.stderr


def test_demo_short_lines_then_jobs_list_sees_its_jobs(tmp_path: Path) -> None:
    result = run_cli("up", "--demo", "--once", "--metrics-port", "0", cwd=tmp_path, COLUMNS="100")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= 100 and not line.startswith("{") for line in lines), lines
    assert any(" completed demo.greet …" in line for line in lines)
    assert any(
        "failed    demo.charge" in line and "GatewayUnavailableError: payment gateway" in line
        for line in lines
    )
    assert any("discarded demo.import_rows" in line for line in lines)
    assert any("cancelled demo.apply_coupon" in line for line in lines)
    assert "metrics on http://127.0.0.1:" in result.stderr

    # The papercut: `make run`, then `taskward jobs list` in the same directory sees its jobs.
    listed = run_cli("jobs", "list", "--output", "json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert {job["task"] for job in json.loads(listed.stdout)} >= {"demo.greet", "demo.charge"}


def test_demo_keeps_running_until_ctrl_c(tmp_path: Path, processes: Processes) -> None:
    demo = processes.cli(
        "demo", "--every", "0.2", "--log-events", "--metrics-port", "0", cwd=tmp_path
    )
    assert demo.stdout is not None
    completed = 0
    for line in demo.stdout:  # blocks until the demo prints; pytest-timeout guards it
        if json.loads(line)["event_name"] == "taskward.job.completed":
            completed += 1
        if completed >= 5:  # more than the first batch's 4: the trickle is flowing
            break
    os.killpg(demo.pid, signal.SIGINT)
    assert demo.stderr is not None
    err = "".join(_lines_until(demo.stderr, "stopped"))
    # `uv run` (so `make run`) forwards the terminal's Ctrl-C once more, maybe only now.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(demo.pid, signal.SIGINT)
    out, rest = demo.communicate(timeout=60)
    err += rest
    assert demo.returncode == 0, err
    assert "received SIGINT" in err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert _records(out)[-1]["event_name"] == "taskward.worker.stopped"


def _lines_until(stream: IO[str], text: str) -> Iterator[str]:
    for line in stream:
        yield line
        if text in line:
            return
