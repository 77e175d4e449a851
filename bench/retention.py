"""The event relay's delivery rate, and what pruning a million finished jobs costs a worker.

relay: 200,000 events read by one durable consumer, ``read`` then ``ack`` in batches
of 1,000, until caught up (median of 3). prune (PostgreSQL): no-op throughput of one
worker process, first on a database with nothing to prune, then on one holding a
million discarded jobs past their age (each with an event and a log record), which the
worker's own leader loop deletes meanwhile; the ratio is what the worker keeps, and
the pruner's rate is measured until the last of them is gone.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bench import throughput, workers
from bench.databases import Databases
from bench.results import record
from bench.tasks import NOOP_ASYNC
from taskward.core import schema
from taskward.core.db import create_engine
from taskward.core.relay import EventRelay

EVENTS = 200_000
FINISHED = 1_000_000


def run(dbs: Databases) -> None:
    rates = [relay_rate(dbs.fresh()) for _ in range(3)]
    print(f"    relay {[round(r) for r in rates]} events/s")
    record("relay_events_per_s", dbs.dialect, statistics.median(rates), "events/s")
    if dbs.dialect == "postgresql":
        prune(dbs)


def relay_rate(url: str) -> float:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            _generate(conn, EVENTS, jobs=False)
        relay = EventRelay(engine, "bench", batch=1000, start="earliest")
        began, read = time.perf_counter(), 0
        while events := relay.read():
            relay.ack(events)
            read += len(events)
        assert read == EVENTS, read
        return read / (time.perf_counter() - began)
    finally:
        engine.dispose()


def prune(dbs: Databases) -> None:
    os.environ["TASKWARD_BENCH_PRUNE_INTERVAL"] = "0.5"
    try:
        base = throughput.measure(dbs.fresh(), NOOP_ASYNC)
        url = dbs.fresh()
        engine = create_engine(url)
        with engine.begin() as conn:
            _generate(conn, FINISHED, jobs=True)
        began = time.perf_counter()
        pruning = throughput.measure(url, NOOP_ASYNC)
        with workers.running(url):
            while _count(engine) > FINISHED // 100:  # the leader goes on pruning
                time.sleep(0.5)
        took = time.perf_counter() - began
        engine.dispose()
    finally:
        del os.environ["TASKWARD_BENCH_PRUNE_INTERVAL"]
    print(f"    worker {base:,.0f} jobs/s alone, {pruning:,.0f} while pruning")
    record("prune_worker_kept_pct", dbs.dialect, 100 * pruning / base, "%")
    record("prune_jobs_per_s", dbs.dialect, FINISHED / took, "jobs/s")


def _generate(conn: sa.Connection, count: int, *, jobs: bool) -> None:
    """``count`` discarded jobs eight days old (each with an event and a log record), or
    ``count`` bare events, written by the database itself."""
    pg = conn.dialect.name == "postgresql"
    series = (
        "generate_series(1, :n) AS s(i)"
        if pg
        else "(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n) "
        "SELECT i FROM s) AS s"
    )
    if not jobs:
        conn.execute(
            sa.text(
                "INSERT INTO taskward_job_events (name, at, queue, task, state, attempt, data) "
                "SELECT 'taskward.job.completed', :at, 'bench', 'bench.noop', 'completed', 1, "
                f"'{{\"duration\": 0.001}}' FROM {series}"
            ).bindparams(sa.bindparam("at", type_=schema.UTCDateTime())),
            {"n": count, "at": _ago(0)},
        )
        return
    conn.execute(
        sa.text(
            "INSERT INTO taskward_jobs (id, queue, task, state, args, kwargs, priority, attempt, "
            "max_attempts, scheduled_at, inserted_at, finished_at, errors, tags, meta, "
            "cancel_requested) SELECT gen_random_uuid(), 'old', 'bench.noop', 'discarded', "
            f"'[]', '{{}}', 0, 1, 20, :at, :at, :at, '[]', '[]', '{{}}', false FROM {series}"
        ).bindparams(sa.bindparam("at", type_=schema.UTCDateTime())),
        {"n": count, "at": _ago(8 * 86400)},
    )
    conn.execute(
        sa.text(
            "INSERT INTO taskward_job_events (job_id, name, at, queue, task, state, attempt, "
            "data) SELECT id, 'taskward.job.discarded', finished_at, queue, task, state, 1, "
            "'{}' FROM taskward_jobs WHERE queue = 'old'"
        )
    )
    conn.execute(
        sa.text(
            "INSERT INTO taskward_job_logs (job_id, attempt, seq, ts, severity_number, "
            "severity_text, logger, message, attributes) SELECT id, 1, 1, finished_at, 9, "
            "'INFO', 'bench', 'done', '{}' FROM taskward_jobs WHERE queue = 'old'"
        )
    )


def _count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        stmt = sa.select(sa.func.count()).where(schema.jobs.c.queue == "old")
        return int(conn.execute(stmt).scalar_one())


def _ago(seconds: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)
