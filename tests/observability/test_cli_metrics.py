"""``taskward worker --metrics-port`` serves /metrics, and the worker's jobs show up on it."""

from __future__ import annotations

import signal
import urllib.request
from pathlib import Path

from taskward.core import JobState
from tests.ops.conftest import (  # noqa: F401 - fixtures
    Processes,
    processes,
    run_cli,
    shop_dir,
    wait_for,
    wait_for_state,
)
from tests.services import free_port


def scrape(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as reply:
            return str(reply.read().decode())
    except OSError:
        return ""


def test_worker_serves_metrics_on_the_given_port(
    sqlite_database: str,
    shop_dir: Path,  # noqa: F811
    processes: Processes,  # noqa: F811
) -> None:
    port = free_port()
    worker = processes.cli(
        "worker", "--app", "shop:app", "-d", sqlite_database, "--heartbeat-interval", "0.2",
        "--poll-interval", "0.05", "--metrics-port", str(port), "--metrics-addr", "127.0.0.1",
        cwd=shop_dir,
    )  # fmt: skip
    job_id = run_cli(
        "enqueue", "shop.fail", "--args", '["no"]', "--app", "shop:app", "-d", sqlite_database,
        cwd=shop_dir,
    ).stdout.strip()  # fmt: skip
    wait_for_state(sqlite_database, job_id, {JobState.DISCARDED})
    wanted = [  # an event metric, and a collector gauge (cached up to its 10 s TTL)
        'taskward_job_attempts_total{outcome="discarded",queue="default",task="shop.fail"} 1.0',
        'taskward_jobs{queue="default",state="discarded"} 1.0',
    ]
    text = wait_for(
        lambda: (t := scrape(port)) and all(w in t for w in wanted) and t, "the job on /metrics"
    )
    assert 'error_type="ValueError"' in text
    code, _, err = processes.stop(worker, signal.SIGTERM)
    assert code == 0, err
    assert f"metrics on http://127.0.0.1:{port}/metrics" in err
