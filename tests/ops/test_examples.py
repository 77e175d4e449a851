"""The README's examples (docs/examples/), run as a user would run them."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from taskward.core import JobState, Taskward, TaskwardError
from tests.ops.conftest import EXAMPLES, Processes, clean_env, count_rows, wait_for


def _finished_jobs(url: str, expected: int) -> bool:
    """True once ``expected`` jobs completed (False while the database is not even there)."""
    try:
        app = Taskward(url)
    except TaskwardError:
        return False
    try:
        return len(app.list_jobs(state=JobState.COMPLETED.value)) >= expected
    except (TaskwardError, sa.exc.SQLAlchemyError):
        return False
    finally:
        app.close()


def test_the_tour_script_twice_in_a_row(tmp_path: Path, processes: Processes) -> None:
    for name in ("tasks.py", "enqueue.py", "tour.sh"):
        shutil.copy(EXAMPLES / "tour" / name, tmp_path)
    # The tour's database is the default one, found from the working directory.
    url = f"sqlite:///{tmp_path}/.taskward/taskward.db"
    for run, schema in ((1, "upgraded from empty to schema revision"), (2, "already at")):
        tour = processes.start(["bash", "tour.sh"], tmp_path, COLUMNS="80")
        wait_for(lambda run=run: _finished_jobs(url, 6 * run), f"run {run}'s six due jobs")

        code, out, err = processes.stop(tour, signal.SIGINT)  # Ctrl-C the worker; on it goes
        assert code == 0, err
        for text in (
            schema,
            "enqueued tasks.send_welcome available",
            "bulk 2",
            "delayed scheduled",
            "rolled back: that job never existed",
            "async available",
            "sending a welcome email to ada@example.com",
            f"{7 * run} jobs, newest first",
            "welcome sent to ada@example.com",
            "taskward.job.completed",
        ):
            assert text in out, (run, text)
        assert "Traceback" not in err


EXPECTED = {
    "retries.py": [
        "retrying fetch_rates (attempt 1 failed: rates API unreachable)",
        "retrying fetch_rates (attempt 2 failed: rates API unreachable)",
        "fetch_rates ['EUR'] completed attempts=3 errors=['ConnectionError', 'ConnectionError']",
        "fetch_rates ['XXX'] discarded attempts=1 errors=['PermissionError']",
        "poll_export ['monthly'] completed attempts=2 errors=[]",
        "poll_export ['deleted'] cancelled attempts=1 errors=[]",
    ],
    "unique.py": [
        "same job: True",
        "new job after it finished: True",
        "digest again this hour: True",
        "jobs: 3",
    ],
    "timeouts.py": [
        "render: discarded taskward.core.errors.JobTimeoutError",
        "cancel a queued job: cancelled",
        "cancel a running job: cancelled",
    ],
    "retention.py": ["pruned {'completed': 1}", "left ['invoice']"],
    "relay.py": [
        "taskward.job.inserted resize available attempt=0",
        "taskward.job.inserted resize available attempt=0",
        "taskward.job.started resize executing attempt=1",
        "taskward.job.started resize executing attempt=1",
        "taskward.job.completed resize completed attempt=1",
        "taskward.job.completed resize completed attempt=1",
        "after 1 come 5 events",
    ],
    "events.py": [
        "ALERT: charge gave up: card declined for order 42",
        "taskward.job.inserted available attempt=0",
        "taskward.job.started executing attempt=1",
        "taskward.job.failed retryable attempt=1",
        "taskward.job.staged available attempt=1",
        "taskward.job.started executing attempt=2",
        "taskward.job.discarded discarded attempt=2",
    ],
}


@pytest.mark.parametrize("example", EXPECTED)
def test_python_examples(example: str, database_url: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / example)],
        cwd=tmp_path,
        env=clean_env(TASKWARD_DATABASE_URL=database_url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == EXPECTED[example]


def test_postgresql_workers_on_two_hosts_share_only_the_url(
    empty_postgresql: str, tmp_path: Path, processes: Processes
) -> None:
    shutil.copy(EXAMPLES / "tour" / "tasks.py", tmp_path)
    shutil.copy(EXAMPLES / "postgresql.sh", tmp_path)
    first = processes.start(
        ["bash", "postgresql.sh"], tmp_path, TASKWARD_DATABASE_URL=empty_postgresql
    )

    def schema_ready() -> bool:
        app = Taskward(empty_postgresql)
        try:
            app.check_schema()
            return True
        except TaskwardError:
            return False
        finally:
            app.close()

    wait_for(schema_ready, "the script's db upgrade")
    second = processes.cli("worker", "--app", "tasks:app", "-d", empty_postgresql, cwd=tmp_path)
    wait_for(
        lambda: count_rows(empty_postgresql, "taskward_workers") == 2, "both workers to register"
    )
    app = Taskward(empty_postgresql, allow_unregistered=True)
    try:
        ids = [
            app.enqueue("tasks.send_welcome", [f"user{i}@example.com"], queue="emails").id
            for i in range(20)
        ]
        wait_for(lambda: _finished_jobs(empty_postgresql, 20), "20 jobs to complete")
        assert all(app.get_job(i).attempt == 1 for i in ids)
    finally:
        app.close()

    sent: list[str] = []
    for host in (first, second):
        code, out, err = processes.stop(host, signal.SIGINT)
        assert code == 0, err
        sent += [line for line in out.splitlines() if line.startswith("sending a welcome")]
    assert sorted(sent) == sorted(
        f"sending a welcome email to user{i}@example.com" for i in range(20)
    )


def test_the_operator_script(sqlite_database: str, tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "tour" / "tasks.py", tmp_path)
    result = subprocess.run(
        ["bash", str(EXAMPLES / "operate.sh")],
        cwd=tmp_path,
        env=clean_env(TASKWARD_DATABASE_URL=sqlite_database, COLUMNS="80"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    tables = [line for line in out.splitlines() if not line.startswith("database ")]
    assert max(len(line.rstrip()) for line in tables) <= 80
    for text in (
        "1 jobs, newest first",
        "tasks.send_welcome",
        "1 queues",
        "0 workers",
        "0 schedules",
        "logs of job",
        "cancelled 1 of 1 jobs",
        "retried 1 of 1 jobs",
        "cancelled 1 of 1 jobs",
        "deleted 1 of 1 jobs",
        "queue emails paused",
        "queue emails resumed",
    ):
        assert text in out, text
    assert count_rows(sqlite_database) == 0
