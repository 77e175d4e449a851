"""Processing speed: 10,000 queued no-op jobs run by real worker processes.

The workers are started first and warmed up on a few hundred jobs (imports,
statement caches, connection pools), then the 10,000 jobs are enqueued in one
transaction. The rate is measured from the database itself: those jobs divided
by the span from their first claim (``attempted_at``) to their last settlement
(``finished_at``), with every job's history and outbox rows written as always.
"""

from __future__ import annotations

import statistics
import time

import sqlalchemy as sa

from bench import workers
from bench.databases import Databases
from bench.results import record
from bench.tasks import NOOP_ASYNC, NOOP_SYNC, make_app
from taskward.core import JobSpec, Taskward, schema

JOBS = 10_000
WARMUP = 500
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
    concurrency: int = 100,
    app_factory: str | None = None,
) -> float:
    """Queue ``jobs`` jobs of ``task``, run them with ``processes`` workers; jobs/s."""
    app = make_app(url)
    try:
        with workers.running(url, processes, concurrency, app_factory=app_factory):
            app.enqueue_many([JobSpec(task, (-n,)) for n in range(WARMUP)])
            _wait_until_completed(app, WARMUP)
            batch = app.enqueue_many([JobSpec(task, (n,)) for n in range(jobs)])
            _wait_until_completed(app, WARMUP + jobs)
        with app.connect() as conn:
            first, last = conn.execute(
                sa.select(sa.func.min(J.c.attempted_at), sa.func.max(J.c.finished_at)).where(
                    J.c.inserted_at == batch[0].inserted_at
                )
            ).one()
        return float(jobs / (last - first).total_seconds())
    finally:
        app.close()


def compare(dbs: Databases, app_factory: str, rounds: int = 3) -> tuple[float, float]:
    """Median no-op throughput without and with the app ``app_factory`` builds (jobs/s),
    alternating the two ``rounds`` times so drift in the machine hits both alike."""
    base: list[float] = []
    treated: list[float] = []
    for _ in range(rounds):
        base.append(measure(dbs.fresh(), NOOP_ASYNC))
        treated.append(measure(dbs.fresh(), NOOP_ASYNC, app_factory=app_factory))
    print(f"    off {[round(x) for x in base]} jobs/s, on {[round(x) for x in treated]} jobs/s")
    return statistics.median(base), statistics.median(treated)


def _wait_until_completed(app: Taskward, jobs: int, timeout: float = 120) -> None:
    """Poll until ``jobs`` jobs are completed in all."""
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
