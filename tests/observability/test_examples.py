"""The README's "Metrics and traces" examples, run as a user would run them."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.observability.test_tracing_otlp import Receiver, receiver  # noqa: F401 - fixture
from tests.ops.conftest import (  # noqa: F401 - fixture
    EXAMPLES,
    Processes,
    clean_env,
    processes,
    wait_for,
)
from tests.services import free_port


def test_the_observability_script(
    database_url: str,
    tmp_path: Path,
    receiver: Receiver,  # noqa: F811
) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "observability.py")],
        cwd=tmp_path,
        env=clean_env(
            TASKWARD_DATABASE_URL=database_url,
            METRICS_PORT="0",
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{receiver.server_address[1]}",
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        "1 1 INFO charging order -1",
        "1 2 ERROR attempt failed: ValueError: no order -1",
    ]
    assert lines[2] == "found by trace id: [True]"
    assert sorted(lines[3:]) == [
        'taskward_job_attempts_total{outcome="completed",queue="default",task="shop.charge"} 1.0',
        'taskward_job_attempts_total{outcome="discarded",queue="default",task="shop.charge"} 1.0',
    ]
    assert "charging order 7" in result.stderr  # still logged as usual
    names = sorted(s.name for s in receiver.spans)
    assert names == ["process default"] * 2 + ["send default"] * 2


def test_the_metrics_script(
    sqlite_database: str,
    tmp_path: Path,
    processes: Processes,  # noqa: F811
) -> None:
    shutil.copy(EXAMPLES / "tour" / "tasks.py", tmp_path)
    shutil.copy(EXAMPLES / "metrics.sh", tmp_path)
    port = free_port()
    script = processes.start(
        ["bash", "metrics.sh"],
        tmp_path,
        TASKWARD_DATABASE_URL=sqlite_database,
        METRICS_PORT=str(port),
        METRICS_ADDR="127.0.0.1",
    )

    def scraped() -> str:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as reply:
                return str(reply.read().decode())
        except OSError:
            return ""

    limit = 'taskward_worker_concurrency_limit{queue="emails"} 10.0'
    wait_for(lambda: limit in scraped(), "the worker's /metrics")
    code, _, err = processes.stop(script, signal.SIGINT)
    assert code == 0, err
