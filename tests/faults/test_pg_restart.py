"""PostgreSQL restarted under running workers (a throwaway cluster): the workers log the
outage, reconnect and finish every job; none is lost, stuck executing, or run twice."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from taskward.core import JobState, Taskward, schema
from tests.core.worker_support import fast, wait_until
from tests.faults.conftest import Cluster

COUNT = 400


@pytest.fixture
def restart_app(pg_cluster: Cluster) -> Iterator[Taskward]:
    """A migrated database of its own in the throwaway cluster."""
    name = f"taskward_restart_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        pg_cluster.url.replace("postgresql://", "postgresql+psycopg://"),
        isolation_level="AUTOCOMMIT",
        poolclass=sa.pool.NullPool,
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    app = Taskward(pg_cluster.url.rsplit("/", 1)[0] + f"/{name}")
    app.migrate()
    yield app
    app.close()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _completed(app: Taskward) -> int:
    J = schema.jobs
    stmt = sa.select(sa.func.count()).select_from(J).where(J.c.state == "completed")
    with app.engine.connect() as conn:
        return int(conn.scalar(stmt) or 0)


@pytest.mark.slow
def test_workers_ride_out_a_postgresql_restart(
    restart_app: Taskward, pg_cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    app = restart_app
    caplog.set_level(logging.INFO, logger="taskward.core.worker")

    @app.task(max_attempts=5)
    async def step(n: int) -> int:
        await asyncio.sleep(0.02)  # some work, so jobs are in flight when the server goes
        return n

    jobs = step.enqueue_many([(n,) for n in range(COUNT)])
    # A rescue window shorter than the outage: after it, every heartbeat looks stale.
    options = fast(heartbeat_interval=0.2, rescue_after=1.0)
    workers = [app.worker({"default": 4}, **options) for _ in range(2)]
    completed_before_outage = 0

    async def main() -> None:
        nonlocal completed_before_outage
        for worker in workers:
            await worker.start()
        completed = 0

        def progressed() -> bool:
            nonlocal completed
            completed = _completed(app)
            return completed >= COUNT // 8

        await wait_until(progressed, within=30, what="work before the outage")
        await asyncio.to_thread(pg_cluster.stop)
        completed_before_outage = completed
        await asyncio.sleep(2)  # the outage itself: real time is what is being tested
        await asyncio.to_thread(pg_cluster.start)
        await wait_until(lambda: _completed(app) == COUNT, within=60, what="every job")
        for worker in workers:
            await worker.shutdown()

    asyncio.run(main())
    assert completed_before_outage < COUNT, "the outage came after all the work"

    J, E = schema.jobs, schema.job_events
    with app.engine.connect() as conn:
        states = Counter(
            dict(conn.execute(sa.select(J.c.state, sa.func.count()).group_by(J.c.state)).all())
        )
        attempts = Counter(conn.scalars(sa.select(J.c.attempt)))
        finished = Counter(
            conn.scalars(sa.select(E.c.job_id).where(E.c.name == "taskward.job.completed"))
        )
        rescued = conn.scalar(sa.select(sa.func.count()).where(E.c.name == "taskward.job.rescued"))
    assert states == {JobState.COMPLETED.value: COUNT}
    assert set(finished) == {j.id for j in jobs} and set(finished.values()) == {1}
    assert rescued == 0 and attempts == {1: COUNT}, "live workers' jobs were rescued"

    messages = [r.getMessage() for r in caplog.records if r.name == "taskward.core.worker"]
    outage = [m for m in messages if "failed" in m or "could not settle" in m or "lost" in m]
    assert outage, f"no outage logged: {messages}"
    assert any("wake-up listener lost its connection" in m for m in messages)
    assert any("wake-up listener reconnected" in m for m in messages)
