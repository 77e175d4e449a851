"""End to end: the stack's processes, natively, with the files compose mounts.

A real ``taskward worker`` runs compose's app on SQLite and serves /metrics; a real
Prometheus scrapes it with compose/prometheus.yml and the shipped rules; a real
Alertmanager routes with alerts/alertmanager.yml to a mail server and a Slack webhook
receiver on loopback. The app's ``reports`` queue is left without a worker, so it stalls:
the critical TaskwardQueueStalled arrives by email; charges that fail twice are discarded:
the warning TaskwardJobsDiscarded arrives on Slack. Then every dashboard panel's PromQL
runs against that Prometheus and must return data.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.opkit.render import render
from tests.opkit.stack import (
    Inbox,
    Prometheus,
    poll,
    rules_copy,
    start_alertmanager,
    start_prometheus,
    start_smtp,
    start_webhook,
    workdir,
)
from tests.opkit.support import COMPOSE, DASHBOARDS, binary, panel_queries, substituted
from tests.ops.conftest import clean_env
from tests.services import free_port

APP_DIR = COMPOSE / "app"
#: Panels allowed to be empty here, and why (each is still parsed by promtool).
EMPTY_HERE = {
    "Rescued jobs": "no worker dies in this test; the counter exists from the first rescue",
    "Notifications": "taskward_notifications_total arrives with issue 15",
    "Schedules: time since last success": "the every-minute schedule may not have run yet",
}


@pytest.fixture
def worker(sqlite_database: str) -> Iterator[tuple[str, int]]:
    """The compose app's worker, serving every queue but ``reports``, /metrics on a port."""
    port = free_port()
    argv = [sys.executable, "-m", "taskward.ops.cli", "worker", "--app", "stackapp:app",
            "-d", sqlite_database, "--queue", "default=8", "--queue", "partners=2",
            "--heartbeat-interval", "0.5", "--poll-interval", "0.05",
            "--metrics-port", str(port), "--metrics-addr", "127.0.0.1"]  # fmt: skip
    proc = subprocess.Popen(argv, cwd=APP_DIR, env=clean_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    yield sqlite_database, port
    proc.terminate()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err


def test_prometheus_alertmanager_and_every_panel_on_a_real_worker(
    worker: tuple[str, int],
) -> None:
    binary("prometheus", "apt-get install prometheus")
    binary("prometheus-alertmanager", "apt-get install prometheus-alertmanager")
    database, metrics_port = worker
    work, inbox = workdir(), Inbox()
    smtp = start_smtp(inbox)
    hook, slack_url = start_webhook(inbox)
    daemons = []
    try:
        daemons.append(am := start_alertmanager(work, smtp.port, slack_url))
        rules = rules_copy(work, fast={"TaskwardQueueStalled"})
        daemons.append(prom := start_prometheus(work, metrics_port, am.url, rules))
        # The zero-filled counters are scraped before any job ends, so increase() sees
        # every discard (a series first seen at 2 shows no increase).
        discarded = 'taskward_job_attempts_total{task="stack.charge", outcome="discarded"}'
        poll(lambda: prom.query(discarded), "the first scrape of the worker")
        subprocess.run(
            [sys.executable, "-c", "import stackapp; stackapp.enqueue_batch(40)"],
            cwd=APP_DIR, env=clean_env(TASKWARD_DATABASE_URL=database), check=True, timeout=60,
        )  # fmt: skip

        def mail() -> object:
            return [m for m in inbox.mails if "TaskwardQueueStalled" in m["Subject"]]

        (email, *_) = poll(mail, "the stalled-queue email", timeout=90)
        assert "[FIRING] TaskwardQueueStalled taskward/reports" in email["Subject"]
        assert email["To"] == "oncall@taskward.local"

        def slack() -> object:
            return [p for p in inbox.posts if "TaskwardJobsDiscarded" in str(p)]

        (post, *_) = poll(slack, "the discarded-jobs Slack message", timeout=60)
        (attachment,) = post["attachments"]
        assert post["channel"] == "#taskward-alerts"
        assert "Task stack.charge in queue default of taskward" in attachment["text"]
        assert "docs/runbooks/TaskwardJobsDiscarded.md|runbook" in attachment["text"]

        queries = [q for q in panel_queries() if q.panel not in EMPTY_HERE]
        empty: list[str] = []

        def every_panel_has_data() -> bool:
            empty[:] = [f"{q.dashboard}: {q.panel}" for q in queries
                        if not prom.query(substituted(q.expr))]  # fmt: skip
            return not empty

        try:
            poll(every_panel_has_data, "data on every panel", timeout=60)
        except AssertionError:
            raise AssertionError(f"panels without data: {empty}") from None
        if picture := os.environ.get("TASKWARD_OVERVIEW_PNG"):
            _draw_overview(prom, database, Path(picture))
    finally:
        for daemon in reversed(daemons):
            daemon.stop()
        hook.shutdown()
        hook.server_close()
        smtp.stop()
        shutil.rmtree(work, ignore_errors=True)


def _draw_overview(prom: Prometheus, database: str, out: Path) -> None:
    """The README's picture: run the stack app a few minutes more (its schedule adds a
    batch every minute, plus a burst now and then), then draw the Overview from the real
    series (``uv run --with matplotlib``)."""
    began, seconds = time.time() - 30, float(os.environ.get("TASKWARD_OVERVIEW_SECONDS", "300"))
    while time.time() - began < seconds:
        subprocess.run(
            [sys.executable, "-c", "import stackapp; stackapp.enqueue_batch(120)"],
            cwd=APP_DIR, env=clean_env(TASKWARD_DATABASE_URL=database), check=True, timeout=60,
        )  # fmt: skip
        time.sleep(45)
    dashboard = json.loads((DASHBOARDS / "taskward-overview.json").read_text())
    end = time.time()
    render(dashboard, lambda q: prom.query_range(q, began, end, 5), substituted, out)
