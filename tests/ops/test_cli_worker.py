"""``taskward worker`` as a real process: runs jobs enqueued from elsewhere, stops on signals."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from taskward.core import JobState, Taskward
from tests.ops.conftest import Processes, run_cli, wait_for_state

FAST = ["--heartbeat-interval", "0.2", "--poll-interval", "0.05"]


def test_worker_runs_a_job_enqueued_by_the_cli_and_stops_on_sigterm(
    database_url: str, shop_dir: Path, processes: Processes
) -> None:
    worker = processes.cli(
        "worker", "--app", "shop:app", "--database", database_url, "--queue", "default=2",
        "--log-events", *FAST,
        cwd=shop_dir,
    )  # fmt: skip
    enqueued = run_cli(
        "enqueue", "shop.add", "--args", "[2, 3]", "--app", "shop:app", "-d", database_url,
        cwd=shop_dir,
    )  # fmt: skip
    job_id = enqueued.stdout.strip()
    wait_for_state(database_url, job_id, {JobState.COMPLETED})

    shown = json.loads(run_cli("jobs", "show", job_id, "--json", "-d", database_url).stdout)
    assert (shown["state"], shown["result"], shown["attempt"]) == ("completed", 5, 1)
    assert [e["name"] for e in shown["events"]] == [
        "taskward.job.inserted",
        "taskward.job.started",
        "taskward.job.completed",
    ]

    code, out, err = processes.stop(worker, signal.SIGTERM)
    assert code == 0, err
    assert "received SIGTERM" in err and "stopped" in err
    assert "Traceback" not in err
    records = [json.loads(line) for line in out.splitlines()]
    completed = [r for r in records if r["event_name"] == "taskward.job.completed"]
    assert [r["taskward.job.id"] for r in completed] == [job_id]
    assert records[-1]["event_name"] == "taskward.worker.stopped"


def test_sigterm_past_the_grace_period_hands_running_jobs_back(
    sqlite_database: str, shop_dir: Path, processes: Processes
) -> None:
    job_id = run_cli(
        "enqueue", "shop.hang", "--app", "shop:app", "-d", sqlite_database, cwd=shop_dir
    ).stdout.strip()
    worker = processes.cli(
        "worker", "--app", "shop:app", "-d", sqlite_database, "--shutdown-grace", "0", *FAST,
        cwd=shop_dir,
    )  # fmt: skip
    wait_for_state(sqlite_database, job_id, {JobState.EXECUTING})

    code, _, err = processes.stop(worker, signal.SIGTERM)
    assert code == 0, err
    app = Taskward(sqlite_database)
    try:
        job = app.get_job(job_id)
        names = [e["name"] for e in app.job_events(job_id)]
    finally:
        app.close()
    assert (job.state, job.attempt) == (JobState.AVAILABLE, 0)
    assert names[-1] == "taskward.job.released"
