"""Enqueue speed: one job per call (a round trip and a commit each), and bulk."""

from __future__ import annotations

import time

from bench.databases import Databases
from bench.results import record
from bench.tasks import NOOP_ASYNC, make_app
from taskward.core import JobSpec

ONE_BY_ONE = 2_000
BULK_BATCH = 10_000
BULK_BATCHES = 5


def run(dbs: Databases) -> None:
    app = make_app(dbs.fresh())
    try:
        task = app.tasks[NOOP_ASYNC]
        task.enqueue(0)  # warm up the pool and the statement cache
        started = time.perf_counter()
        for n in range(ONE_BY_ONE):
            task.enqueue(n)
        record("enqueue_one_jobs_per_s", dbs.dialect, ONE_BY_ONE / _since(started), "jobs/s")

        app.enqueue_many([JobSpec(NOOP_ASYNC, (0,))])
        specs = [JobSpec(NOOP_ASYNC, (n,)) for n in range(BULK_BATCH)]
        started = time.perf_counter()
        for _ in range(BULK_BATCHES):
            app.enqueue_many(specs)
        total = BULK_BATCH * BULK_BATCHES
        record("enqueue_bulk_jobs_per_s", dbs.dialect, total / _since(started), "jobs/s")
    finally:
        app.close()


def _since(started: float) -> float:
    return time.perf_counter() - started
