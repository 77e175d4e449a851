"""SQLite: one writer at a time (``BEGIN IMMEDIATE``), so claims need no row locks.

Batched writes go straight to the driver's ``executemany``, which loops in C over
rows already encoded by :class:`RowCodec`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.sql.dml import Insert

from taskward.core.events import JobEvent
from taskward.core.job import Job
from taskward.core.schema import job_events, jobs, sqlite_time
from taskward.core.store._rows import EVENT_COLUMNS, INSERT_COLUMNS, UPDATE_COLUMNS, RowCodec
from taskward.core.store._transitions import allowed
from taskward.core.store.sql import SqlStore
from taskward.core.store.wakeup import OnCancel, OnQueues, watch_sqlite

CODEC = RowCodec(uuid=attrgetter("hex"), time=sqlite_time)


def _insert_sql(table: sa.Table, columns: Sequence[str]) -> str:
    marks = ", ".join("?" * len(columns))
    return f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"


INSERT_JOBS = _insert_sql(jobs, INSERT_COLUMNS)
INSERT_EVENTS = _insert_sql(job_events, EVENT_COLUMNS)
#: Numbered parameters: ``?1`` (the new state) is also what the transition check compares.
UPDATE_JOBS = (
    f"UPDATE {jobs.name} SET "
    + ", ".join(f"{c} = ?{i}" for i, c in enumerate(UPDATE_COLUMNS, 1))
    + f" WHERE id = ?{len(UPDATE_COLUMNS) + 1} AND {allowed('state', '?1')}"
)


class SqliteStore(SqlStore):
    dialect = "sqlite"

    def _insert_into(self, table: sa.Table) -> Insert:
        return insert(table)

    def _insert_new(self, conn: sa.Connection, events: Sequence[JobEvent], wake: set[str]) -> None:
        _many(conn, INSERT_JOBS, CODEC.jobs(e.job for e in events))
        self._insert_events(conn, events)  # other processes see the commit (data_version)

    def _insert_events(self, conn: sa.Connection, events: Sequence[JobEvent]) -> None:
        _many(conn, INSERT_EVENTS, CODEC.events(events))

    def _write_snapshots(
        self, conn: sa.Connection, jobs: Sequence[Job], events: Sequence[JobEvent]
    ) -> int:
        updated = _many(conn, UPDATE_JOBS, CODEC.updates(jobs))
        self._insert_events(conn, events)
        return updated

    async def listen(
        self,
        on_queues: OnQueues,
        on_cancel: OnCancel,
        stopping: asyncio.Event,
        on_listening: Callable[[], object] = lambda: None,
    ) -> None:
        """Other processes' commits, seen by polling the file (cancels: by polling)."""
        path = self.engine.url.database
        if path and path != ":memory:":
            await watch_sqlite(path, on_queues, stopping)


def _many(conn: sa.Connection, sql: str, rows: list[tuple[Any, ...]]) -> int:
    """``executemany``; the rows it changed (the driver sums them)."""
    return conn.exec_driver_sql(sql, rows).rowcount
