"""Persisting captured rows, and reading a job's logs back by attempt.

Each attempt's rows are handed over at attempt end (in a ``finally``: also on
failure, timeout, cancellation and shutdown) without blocking the job; a
writer thread inserts everything handed over meanwhile (it lingers ``LINGER``
between writes, so a busy worker's attempts share INSERTs) in one bulk INSERT. If
the database is slow or down, waiting rows are capped and the excess dropped
and counted: the job never waits for its logs.

Sequence numbers are per (job, attempt). An attempt handed back on shutdown
is run again under the same number, so when an insert collides the writer
appends after the rows already stored.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from taskward.core import schema
from taskward.core.instrumentation.config import LINGER
from taskward.core.instrumentation.guard import Guard
from taskward.core.instrumentation.logrows import Row

if TYPE_CHECKING:
    from taskward.core.app import Taskward

L = schema.job_logs
CountRecords = Callable[[str, str, int], None]


class LogWriter:
    """A thread that bulk-inserts the rows of finished attempts."""

    def __init__(self, app: Taskward, count: CountRecords, max_pending_rows: int) -> None:
        self.app = app
        self._count = count
        self._max_pending = max_pending_rows
        self._submitted = 0  # rows handed over, and rows done with (written or dropped)
        self._done = 0
        self._queue: queue.SimpleQueue[tuple[str, list[Row]] | None] = queue.SimpleQueue()
        self._idle = threading.Condition()
        self._guard = Guard("persisting execution logs")
        self._thread = threading.Thread(target=self._run, name="taskward-log-writer", daemon=True)
        self._thread.start()

    def submit(self, queue_name: str, rows: list[Row]) -> None:
        """Hand over one attempt's rows; never blocks (drops and counts when backed up)."""
        if not rows:
            return
        with self._idle:
            if self._submitted - self._done + len(rows) > self._max_pending:
                self._count(queue_name, "dropped", len(rows))
                return
            self._submitted += len(rows)
        self._queue.put((queue_name, rows))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything handed over so far is written (or dropped)."""
        with self._idle:
            target = self._submitted
            return self._idle.wait_for(lambda: self._done >= target, timeout)

    def close(self, timeout: float = 10.0) -> None:
        self.flush(timeout)
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            batch = [item]
            while item is not None:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                batch.append(item)
            work = [b for b in batch if b is not None]
            if work:
                self._write(work)
                with self._idle:
                    self._done += sum(len(rows) for _, rows in work)
                    self._idle.notify_all()
            if len(work) < len(batch):
                return
            time.sleep(LINGER)  # let the next attempts' rows join one INSERT

    def _write(self, batch: list[tuple[str, list[Row]]]) -> None:
        """One INSERT for the batch; if it fails, each attempt on its own (one bad row,
        e.g. text PostgreSQL refuses, costs only its own attempt's logs)."""
        try:
            self._insert([row for _, rows in batch for row in rows])
        except Exception:
            if len(batch) > 1:
                for item in batch:
                    self._write([item])
                return
            self._guard.failed()
            self._count(batch[0][0], "dropped", len(batch[0][1]))
            return
        for queue_name, rows in batch:
            self._count(queue_name, "persisted", len(rows))

    def _insert(self, rows: list[Row]) -> None:
        try:
            with self.app.connect() as conn:
                conn.execute(L.insert(), rows)
        except sa.exc.IntegrityError:
            with self.app.connect() as conn:
                conn.execute(L.insert(), _after_stored(conn, rows))


def _after_stored(conn: sa.Connection, rows: list[Row]) -> list[Row]:
    """``rows`` renumbered to follow what each (job, attempt) already has."""
    keys = {(r["job_id"], r["attempt"]) for r in rows}
    stmt = (
        sa.select(L.c.job_id, L.c.attempt, sa.func.max(L.c.seq))
        .where(L.c.job_id.in_({k[0] for k in keys}))
        .group_by(L.c.job_id, L.c.attempt)
    )
    base = {(j, a): int(n) for j, a, n in conn.execute(stmt)}
    return [{**r, "seq": r["seq"] + base.get((r["job_id"], r["attempt"]), 0)} for r in rows]


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One persisted execution log record."""

    job_id: uuid.UUID
    attempt: int
    seq: int
    ts: datetime
    severity_number: int
    severity_text: str
    logger: str
    message: str
    attributes: dict[str, Any]
    exception: str | None
    trace_id: str | None
    span_id: str | None


@dataclass(frozen=True, slots=True)
class LogPage:
    """A page of a job's logs; pass ``next_after`` as ``after`` for the next page."""

    entries: list[LogEntry]
    next_after: tuple[int, int] | None


def logs_for(
    app: Taskward,
    job_id: uuid.UUID | str,
    *,
    attempt: int | None = None,
    after: tuple[int, int] = (0, 0),
    limit: int = 100,
) -> LogPage:
    """A job's execution logs in (attempt, seq) order, keyset-paginated.

    ``attempt`` narrows to one attempt; ``after`` is the (attempt, seq) of the last
    entry already seen. ``next_after`` is None on the last page.
    """
    if limit < 1:
        raise ValueError(f"limit must be positive, got {limit}")
    job = uuid.UUID(str(job_id))
    after_attempt, after_seq = after
    stmt = (
        sa.select(L)
        .where(
            L.c.job_id == job,
            sa.or_(
                L.c.attempt > after_attempt,
                sa.and_(L.c.attempt == after_attempt, L.c.seq > after_seq),
            ),
        )
        .order_by(L.c.attempt, L.c.seq)
        .limit(limit + 1)
    )
    if attempt is not None:
        stmt = stmt.where(L.c.attempt == attempt)
    with app.connect() as conn:
        rows = [LogEntry(**dict(r)) for r in conn.execute(stmt).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    return LogPage(rows, (rows[-1].attempt, rows[-1].seq) if more else None)
