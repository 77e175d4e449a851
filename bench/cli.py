"""The operator's CLI: start-up time, a filtered ``jobs list`` page, a bulk retry.

- ``cli_help_overhead``: wall time of ``taskward --help`` minus ``python -c pass``
  (median of 5 each; target < 0.25 s).
- ``jobs_list_*_p95``: the first page (50 jobs) of ``jobs list`` filters over a
  table of 1,000,000 jobs on PostgreSQL (100,000 on SQLite): the query the command
  runs, 40 times each, p95 (target < 50 ms); plus the whole command's wall time.
- ``bulk_retry_100k``: the admin service retrying 100,000 discarded jobs, in its
  bounded batches, one outbox row each (target < 10 s).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import sqlalchemy as sa

from bench.databases import Databases
from bench.results import record
from taskward.core import Taskward
from taskward.core.store import jobquery
from taskward.core.store.jobquery import JobFilter
from taskward.ops.admin import Admin

ROWS = {"postgresql": 1_000_000, "sqlite": 100_000}
RETRY_ROWS = 100_000
QUEUES, TASKS = 10, 50
#: (state, share of the table): what a busy system keeps until retention prunes it.
STATES = (
    ("completed", 0.80),
    ("discarded", 0.05),
    ("available", 0.08),
    ("scheduled", 0.03),
    ("retryable", 0.02),
    ("cancelled", 0.02),
)
FILTERS: dict[str, JobFilter] = {
    "none": JobFilter(),
    "state": JobFilter(states=("discarded",)),
    "queue": JobFilter(queues=("q3",)),
    "queue_state": JobFilter(queues=("q3",), states=("discarded",)),
    "task": JobFilter(tasks=("t7",)),
    "error": JobFilter(states=("discarded",), error="timed out"),
}
CLI = [sys.executable, "-m", "taskward.ops.cli"]


def run(dbs: Databases) -> None:
    if dbs.dialect == "sqlite":
        _help_overhead()
    url = dbs.fresh()
    _fill(url, ROWS[dbs.dialect])
    _list_pages(url, dbs.dialect)
    url = dbs.fresh()
    _fill(url, RETRY_ROWS, states=(("discarded", 1.0),))
    _bulk_retry(url, dbs.dialect)


def _wall(argv: list[str], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def _help_overhead() -> None:
    python = _wall([sys.executable, "-c", "pass"])
    cli = _wall([*CLI, "--help"])
    record("cli_python_startup", "any", python, "s")
    record("cli_help", "any", cli, "s")
    record("cli_help_overhead", "any", cli - python, "s")


def _fill(url: str, rows: int, states: tuple[tuple[str, float], ...] = STATES) -> None:
    """``rows`` jobs in time order, spread over queues, tasks and ``states``, in SQL."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    began = time.perf_counter()
    with engine.begin() as conn:
        start = 0
        for state, share in states:
            count = round(rows * share)
            conn.exec_driver_sql(_insert_sql(conn.dialect.name, state, start, count))
            start += count
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    print(f"  ({rows:,} jobs written in {time.perf_counter() - began:.0f} s)", flush=True)


def _insert_sql(dialect: str, state: str, start: int, count: int) -> str:
    """Ids are time-ordered like UUIDv7: 12 hex digits of milliseconds, then random."""
    columns = (
        "id, queue, task, state, args, kwargs, priority, attempt, max_attempts, scheduled_at, "
        "inserted_at, finished_at, errors, tags, meta, trace_id, cancel_requested"
    )
    finished = state in ("completed", "discarded", "cancelled")
    error = (
        '[{"attempt": 1, "type": "TimeoutError", "message": "upstream timed out", '
        '"traceback": "Traceback (most recent call last): ..."}]'
        if state == "discarded"
        else "[]"
    )
    if dialect == "postgresql":
        ms = "(1700000000000 + n * 7)"
        at = f"to_timestamp({ms} / 1000.0)"
        return (
            f"INSERT INTO taskward_jobs ({columns}) SELECT "
            f"(lpad(to_hex({ms}), 12, '0') || substr(md5(n::text), 1, 20))::uuid, "
            f"'q' || mod(n, {QUEUES}), 't' || mod(n, {TASKS}), '{state}', "
            f"'[1, \"x\"]', '{{}}', 0, 1, 3, {at}, {at}, "
            f"{at if finished else 'NULL'}, '{error}', '[\"bench\"]', '{{}}', NULL, false "
            f"FROM generate_series({start}, {start + count - 1}) AS n"
        )
    ms = "(1700000000000 + value * 7)"
    at = f"strftime('%Y-%m-%d %H:%M:%f000', {ms} / 1000.0, 'unixepoch')"
    return (
        f"WITH RECURSIVE s(value) AS (SELECT {start} UNION ALL SELECT value + 1 FROM s "
        f"WHERE value < {start + count - 1}) "
        f"INSERT INTO taskward_jobs ({columns}) SELECT "
        f"printf('%012x', {ms}) || substr(lower(hex(randomblob(10))), 1, 20), "
        f"'q' || (value % {QUEUES}), 't' || (value % {TASKS}), '{state}', "
        f"'[1, \"x\"]', '{{}}', 0, 1, 3, {at}, {at}, "
        f"{at if finished else 'NULL'}, '{error}', '[\"bench\"]', '{{}}', NULL, 0 "
        f"FROM s"
    )


def _p95(fn: Callable[[], object], runs: int = 40) -> float:
    fn()  # warm: plan cache, buffers
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.quantiles(times, n=20)[-1]


def _list_pages(url: str, dialect: str) -> None:
    app = Taskward(url)
    try:
        for name, where in FILTERS.items():

            def first_page(where: JobFilter = where) -> object:
                with app.connect() as conn:
                    return jobquery.page(conn, where, limit=51)

            record(f"jobs_list_{name}_p95", dialect, _p95(first_page) * 1000, "ms")
    finally:
        app.close()
    argv = [*CLI, "jobs", "list", "--state", "discarded", "--queue", "q3", "-d", url]
    record("jobs_list_command_wall", dialect, _wall(argv, runs=3), "s")


def _bulk_retry(url: str, dialect: str) -> None:
    app = Taskward(url)
    try:
        admin = Admin.of(app, "bench")
        began = time.perf_counter()
        result = admin.retry(JobFilter(states=("discarded",)))
        elapsed = time.perf_counter() - began
        assert result.changed == RETRY_ROWS, result
        record("bulk_retry_100k", dialect, elapsed, "s")
    finally:
        app.close()
