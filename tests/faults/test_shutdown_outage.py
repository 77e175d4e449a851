"""Shutdown while the database is unreachable: the worker exits within its bounds, and the
job whose outcome it could not write is rescued later, not lost.

The outage is real but confined to this test's own database on the shared server:
``ALLOW_CONNECTIONS false`` refuses every new connection (superusers included) and
the open ones are terminated.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest
import sqlalchemy as sa

from taskward.core import JobState, Taskward
from taskward.core.db import create_engine
from tests.core.worker_support import fast, gated_task, wait_for_states

pytestmark = pytest.mark.postgresql_only
TERMINATE = sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d")


def _outage(admin: sa.Engine, url: str, *, on: bool) -> None:
    name = sa.make_url(url).database
    with admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(not on).lower()}'))
        if on:
            conn.execute(TERMINATE, {"d": name})


def test_shutdown_during_an_outage_gives_up_on_settling_and_the_job_is_rescued_later(
    postgresql_database: str, pg_admin: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    app = Taskward(postgresql_database)
    slow, go = gated_task(app)
    job = slow.enqueue()
    worker = app.worker(["default"], **fast(shutdown_grace=1.0))

    async def main() -> float:
        await worker.start()
        await wait_for_states(app, [job.id], [JobState.EXECUTING])
        await asyncio.to_thread(_outage, pg_admin, postgresql_database, on=True)
        go.set()  # the attempt ends while nothing can be written
        began = time.monotonic()
        await asyncio.wait_for(worker.shutdown(), 60)
        return time.monotonic() - began

    with caplog.at_level(logging.ERROR, logger="taskward.core.worker"):
        took = asyncio.run(main())
    app.close()
    _outage(pg_admin, postgresql_database, on=False)
    assert took < 30, f"shutdown took {took:.1f}s"
    assert "could not settle 1 jobs" in caplog.text

    # The outcome was never written: the job is still the dead worker's, so a live
    # worker's rescuer hands it back and it runs again.
    later = Taskward(postgresql_database)
    later.task(name=slow.name)(_done)
    assert later.get_job(job.id).state is JobState.EXECUTING

    async def rescue(survivor: Any) -> None:
        await survivor.start()
        try:
            await wait_for_states(later, [job.id], [JobState.COMPLETED], within=20)
        finally:
            await survivor.shutdown()

    survivor = later.worker(["default"], **fast(heartbeat_interval=0.05, rescue_after=0.5))
    asyncio.run(rescue(survivor))
    done = later.get_job(job.id)
    later.close()
    assert (done.result, done.attempt) == ("done", 2)
    assert done.errors[0]["type"] == "taskward.WorkerLost"


async def _done() -> str:
    return "done"


def test_the_outage_helper_really_refuses_connections(
    postgresql_database: str, pg_admin: sa.Engine
) -> None:
    _outage(pg_admin, postgresql_database, on=True)
    engine = create_engine(postgresql_database)
    try:
        with pytest.raises(sa.exc.OperationalError), engine.connect():
            pass
    finally:
        engine.dispose()
        _outage(pg_admin, postgresql_database, on=False)
