"""Retention's metrics: jobs pruned by state, events pruned, purge runs and last success."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from taskward.core import Taskward
from taskward.core.instrumentation import Instrumentation
from taskward.core.retention import Pruner, RetentionPolicy
from tests.core.retention_data import generate_finished
from tests.core.worker_support import fast, wait_until
from tests.observability.conftest import sample


@pytest.fixture
def app(database_url: str) -> Iterator[Taskward]:
    """An app whose leader prunes every 50 ms."""
    app = Taskward(database_url, retention=RetentionPolicy(interval=0.05))
    yield app
    app.close()


def test_a_purge_pass_is_counted_by_state_with_its_last_success(
    app: Taskward, inst: Instrumentation
) -> None:
    now = datetime.now(UTC)
    generate_finished(app, 5, now)  # the app keeps no queue longer: "audit" goes too
    assert sample(inst, "taskward_pruned_total", state="discarded") == 0  # zero-filled
    worker = app.worker({"default": 1}, **fast())

    async def run() -> None:
        await worker.start()
        try:
            await wait_until(
                lambda: sample(inst, "taskward_pruned_total", state="completed") == 25,
                what="the purge to be counted",
            )
        finally:
            await worker.shutdown()

    asyncio.run(run())
    app.bus.flush()
    assert sample(inst, "taskward_pruned_total", state="cancelled") == 5
    assert sample(inst, "taskward_pruned_total", state="discarded") == 5
    assert sample(inst, "taskward_maintenance_runs_total", kind="purge", outcome="ok") >= 1
    last = sample(inst, "taskward_maintenance_last_success_timestamp_seconds", kind="purge")
    assert abs(last - now.timestamp()) < 60


def test_pruned_events_are_counted(app: Taskward, inst: Instrumentation) -> None:
    app.task(name="t")(lambda n: n)
    for n in range(4):
        app.enqueue("t", (n,))
    later = datetime.now(UTC) + timedelta(days=8)
    clock = type("Later", (), {"now": staticmethod(lambda: later)})()
    Pruner(app.engine, clock=clock, emit=app.emit).prune()
    app.bus.flush()
    assert sample(inst, "taskward_events_pruned_total") == 3  # the newest event stays
