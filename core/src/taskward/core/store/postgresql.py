"""PostgreSQL: ``SKIP LOCKED`` claims and ``LISTEN/NOTIFY`` wake-ups.

Batched writes cost one statement whatever the batch size (see :mod:`._pgsql`):
rows travel as one JSON array, or by ``COPY`` when there are many. A settlement
writes its job snapshots and their outbox rows in one statement. Measured against
``executemany`` (one execution per row) and ``unnest`` of per-column arrays (slow
to adapt in Python), these cut the client's CPU and the round trips several times.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert
from sqlalchemy.sql.dml import Insert

from taskward.core import schema
from taskward.core._json import dumps
from taskward.core.events import JobEvent, JobStarted
from taskward.core.job import Job
from taskward.core.store import _copytext as copytext
from taskward.core.store import _pgsql as q
from taskward.core.store._rows import EVENT_COLUMNS, JOB_COLUMNS, RowCodec, aware_iso
from taskward.core.store.sql import SqlStore, StorePlugin
from taskward.core.store.wakeup import OnCancel, OnQueues, listen_postgres

WAKEUP_CHANNEL, QUEUE_PREFIX, CANCEL_PREFIX = q.WAKEUP_CHANNEL, q.QUEUE_PREFIX, q.CANCEL_PREFIX

J, E = schema.jobs, schema.job_events
UUID_ARRAY = ARRAY(UUID(as_uuid=True))
NOTIFY = sa.select(sa.func.pg_notify(WAKEUP_CHANNEL, sa.bindparam("payload", type_=sa.String)))
#: Above this many rows, ``COPY`` beats one JSON array (measured: 100 rows JSON, 10,000 COPY).
COPY_FROM = 1000


#: Rows inside one JSON document (ids and times as text, JSON values as they are).
JSON_CODEC = RowCodec(uuid=str, time=aware_iso, json=lambda value: value)


class PostgresStore(SqlStore):
    dialect = "postgresql"

    def __init__(self, engine: sa.Engine, plugins: Sequence[StorePlugin] = ()) -> None:
        super().__init__(engine, plugins)
        self._claim_best = _claim_with_events(self._claim_best)
        self._claim_best_writes_events = True

    def claims_in_one_statement(self) -> bool:
        return self.claim_limiter is None

    def _insert_into(self, table: sa.Table) -> Insert:
        return insert(table)

    def _insert_new(self, conn: sa.Connection, events: Sequence[JobEvent], wake: set[str]) -> None:
        if len(events) > COPY_FROM:
            _copy(conn, q.COPY_JOBS, copytext.job_lines(e.job for e in events))
            _copy(conn, q.COPY_EVENTS, copytext.event_lines(events))
            self.notify(conn, wake)
        else:  # jobs, events and wake-ups in one round trip: what a single enqueue waits for
            params = {
                "jobs": dumps(JSON_CODEC.jobs(e.job for e in events)),
                "events": dumps(JSON_CODEC.events(events)),
                "wake": dumps([f"{QUEUE_PREFIX}{queue}" for queue in sorted(wake)]),
            }
            conn.exec_driver_sql(q.INSERT_NEW, params)

    def inserts_in_one_statement(self, jobs: Sequence[Job]) -> bool:
        return len(jobs) <= COPY_FROM and not any(job.unique_key for job in jobs)

    def _insert_events(self, conn: sa.Connection, events: Sequence[JobEvent]) -> None:
        if len(events) > COPY_FROM:
            _copy(conn, q.COPY_EVENTS, copytext.event_lines(events))
        else:
            conn.exec_driver_sql(q.INSERT_EVENTS, (dumps(JSON_CODEC.events(events)),))

    def _write_snapshots(
        self, conn: sa.Connection, jobs: Sequence[Job], events: Sequence[JobEvent]
    ) -> int:
        params = {
            "jobs": dumps(JSON_CODEC.updates(jobs)),
            "events": dumps(JSON_CODEC.events(events)),
        }
        return int(conn.exec_driver_sql(q.SETTLE, params).scalar_one())

    def id_in(
        self,
        column: sa.ColumnElement[uuid.UUID],
        ids: Sequence[uuid.UUID] | None = None,
        *,
        name: str | None = None,
    ) -> sa.ColumnElement[bool]:
        # One uuid[] parameter: an IN list binds, renders and converts each id apart
        # (milliseconds of client CPU for a hundred ids).
        value = list(ids) if ids is not None else None
        return column == sa.any_(sa.bindparam(name, value, type_=UUID_ARRAY))

    def _lock_for_claim(self, select: sa.Select[Any]) -> sa.Select[Any]:
        return select.with_for_update(skip_locked=True)

    def _lock_rows(self, select: sa.Select[Any]) -> sa.Select[Any]:
        return select.with_for_update()

    def notify(self, conn: sa.Connection, queues: Iterable[str]) -> None:
        for queue in sorted(queues):
            conn.execute(NOTIFY, {"payload": f"{QUEUE_PREFIX}{queue}"})

    def notify_cancel(self, conn: sa.Connection, job_id: uuid.UUID) -> None:
        conn.execute(NOTIFY, {"payload": f"{CANCEL_PREFIX}{job_id}"})

    async def listen(
        self,
        on_queues: OnQueues,
        on_cancel: OnCancel,
        stopping: asyncio.Event,
        on_listening: Callable[[], object] = lambda: None,
    ) -> None:
        await listen_postgres(self.engine.url, on_queues, on_cancel, stopping, on_listening)


def _copy(conn: sa.Connection, sql: str, lines: Iterator[str]) -> None:
    """``COPY ... FROM STDIN`` of text-format ``lines`` on the connection's transaction,
    errors as SQLAlchemy's."""
    dbapi = conn.dialect.loaded_dbapi
    raw, driver = conn.connection.dbapi_connection, conn.connection.driver_connection
    assert driver is not None
    try:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            for chunk in copytext.chunks(lines):
                copy.write(chunk)
    except dbapi.Error as exc:
        lost = conn.dialect.is_disconnect(exc, raw, None)
        if lost:
            conn.invalidate(exc)
        raise sa.exc.DBAPIError.instance(
            sql, None, exc, dbapi.Error, connection_invalidated=lost, dialect=conn.dialect
        ) from exc


def _claim_with_events(claim: sa.Executable) -> sa.Select[Any]:
    """The plain claim (an UPDATE ... RETURNING) and its ``started`` events in one
    statement: a claim outside a transaction is then one round trip, not four."""
    assert isinstance(claim, sa.Update)
    claimed = claim.cte("claimed")
    now = sa.bindparam("b_now", type_=J.c.attempted_at.type)
    runnable = sa.func.greatest(claimed.c.inserted_at, claimed.c.scheduled_at)
    waited = sa.func.greatest(0, sa.extract("epoch", now - runnable))
    started = E.insert().from_select(
        list(EVENT_COLUMNS),
        sa.select(
            claimed.c.id,
            sa.literal(JobStarted.name),
            now,
            claimed.c.queue,
            claimed.c.task,
            claimed.c.state,
            claimed.c.attempt,
            sa.func.jsonb_build_object("queue_wait", sa.func.coalesce(waited, 0)),
        ).order_by(claimed.c.priority, claimed.c.scheduled_at, claimed.c.id),
    )
    return sa.select(*(claimed.c[c.name] for c in JOB_COLUMNS)).add_cte(started.cte("started"))
