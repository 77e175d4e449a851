"""Processing speed: 10,000 queued no-op jobs run by real worker processes.

The rate is measured from the database itself: jobs divided by the span from
the first claim (``attempted_at``) to the last settlement (``finished_at``), so
process start-up is left out and every job's history and outbox rows count.
"""

from __future__ import annotations

import time

import sqlalchemy as sa

from bench import workers
from bench.databases import Databases
from bench.results import record
from bench.tasks import NOOP_ASYNC, NOOP_SYNC, make_app
from taskward.core import JobSpec, Taskward, schema

JOBS = 10_000
J = schema.jobs


def run(dbs: Databases) -> None:
    record("process_jobs_per_s", dbs.dialect, measure(dbs.fresh(), NOOP_ASYNC), "jobs/s")
    record("process_sync_jobs_per_s", dbs.dialect, measure(dbs.fresh(), NOOP_SYNC), "jobs/s")
    if dbs.dialect == "postgresql":
        rate = measure(dbs.fresh(), NOOP_ASYNC, processes=2)
        record("process_2proc_jobs_per_s", dbs.dialect, rate, "jobs/s")


def measure(
    url: str,
    task: str,
    *,
    processes: int = 1,
    jobs: int = JOBS,
    app_factory: str | None = None,
) -> float:
    """Queue ``jobs`` jobs of ``task``, run them with ``processes`` workers; jobs/s."""
    app = make_app(url)
    try:
        app.enqueue_many([JobSpec(task, (n,)) for n in range(jobs)])
        with workers.running(url, processes, app_factory=app_factory):
            _wait_until_completed(app, jobs)
        with app.connect() as conn:
            first, last = conn.execute(
                sa.select(sa.func.min(J.c.attempted_at), sa.func.max(J.c.finished_at))
            ).one()
        return float(jobs / (last - first).total_seconds())
    finally:
        app.close()


def _wait_until_completed(app: Taskward, jobs: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.connect() as conn:
            done = conn.scalar(
                sa.select(sa.func.count()).select_from(J).where(J.c.state == "completed")
            )
        if done == jobs:
            return
        time.sleep(0.1)
    raise RuntimeError(f"only {done} of {jobs} jobs completed within {timeout:.0f} s")
