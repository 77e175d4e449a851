"""Single-job speed (issue 12): one-by-one enqueue, concurrency 1 and 10, pick-up p50.

Each figure is the median of three rounds on fresh databases; the rounds are
printed too, so the spread (the noise of a shared machine) is visible.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from bench import pickup, throughput
from bench.databases import Databases
from bench.results import record
from bench.tasks import NOOP_ASYNC, make_app

ROUNDS = 3
ONE_BY_ONE = 2_000
#: Fewer jobs at concurrency 1: a round stays a few seconds even on a slow run.
JOBS = {1: 3_000, 10: 10_000}


def run(dbs: Databases) -> None:
    if dbs.dialect == "postgresql":
        _median("enqueue_one_jobs_per_s", dbs, lambda: _enqueue_one(dbs.fresh()), "jobs/s")
    for concurrency, jobs in JOBS.items():
        _median(
            f"process_c{concurrency}_jobs_per_s",
            dbs,
            lambda c=concurrency, n=jobs: throughput.measure(  # type: ignore[misc]
                dbs.fresh(), NOOP_ASYNC, jobs=n, concurrency=c
            ),
            "jobs/s",
        )
    if dbs.dialect == "postgresql":
        _median("pickup_p50_ms", dbs, lambda: pickup.p50(dbs.fresh()), "ms")


def _median(name: str, dbs: Databases, measure: Callable[[], float], unit: str) -> None:
    rounds = [measure() for _ in range(ROUNDS)]
    print(f"    {name} rounds: {[round(r, 2) for r in rounds]}", flush=True)
    record(name, dbs.dialect, statistics.median(rounds), unit)


def _enqueue_one(url: str) -> float:
    app = make_app(url)
    try:
        task = app.tasks[NOOP_ASYNC]
        task.enqueue(0)  # warm up the pool and the statement cache
        started = time.perf_counter()
        for n in range(ONE_BY_ONE):
            task.enqueue(n)
        return ONE_BY_ONE / (time.perf_counter() - started)
    finally:
        app.close()
