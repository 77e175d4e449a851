"""Rescue by any live worker: concurrent rescuers never rescue one attempt twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from taskward.core import Taskward, schema
from taskward.core.worker.transitions import rescued

RESCUERS = 4
JOBS = 60


def test_concurrent_rescuers_rescue_each_orphan_once(app: Taskward) -> None:
    @app.task(max_attempts=3)
    def work(n: int) -> None: ...

    jobs = work.enqueue_many([(n,) for n in range(JOBS)])
    now = app.clock.now()
    with app.connect() as conn:
        app.store.register_worker(conn, "dead", "h", 1, {"default": 1}, now - timedelta(minutes=5))
        app.store.claim(conn, "default", "dead", JOBS, now)
    start = threading.Barrier(RESCUERS)
    counts: list[int] = []

    def rescuer() -> None:
        start.wait()
        with app.connect() as conn:
            orphans = app.store.orphaned(conn, now - timedelta(minutes=1))
            app.store.write_transitions(conn, [rescued(job, now) for job in orphans])
        counts.append(len(orphans))

    threads = [threading.Thread(target=rescuer) for _ in range(RESCUERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(counts) == JOBS
    J, E = schema.jobs, schema.job_events
    with app.connect() as conn:
        assert set(conn.scalars(sa.select(J.c.state))) == {"available"}
        assert set(conn.scalars(sa.select(J.c.attempt))) == {1}
        rescues = conn.scalar(sa.select(sa.func.count()).where(E.c.name == "taskward.job.rescued"))
    assert rescues == JOBS
    assert {e["name"] for e in app.job_events(jobs[0].id)} >= {"taskward.job.rescued"}
