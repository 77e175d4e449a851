"""PostgreSQL: ``SKIP LOCKED`` claims and ``LISTEN/NOTIFY`` wake-ups."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.sql.dml import Insert

from taskward.core.store.sql import SqlStore

WAKEUP_CHANNEL = "taskward_wakeup"
QUEUE_PREFIX = "q:"
CANCEL_PREFIX = "c:"


class PostgresStore(SqlStore):
    dialect = "postgresql"

    def _insert_into(self, table: sa.Table) -> Insert:
        return insert(table)

    def _lock_for_claim(self, select: sa.Select[Any]) -> sa.Select[Any]:
        return select.with_for_update(skip_locked=True)

    def _lock_rows(self, select: sa.Select[Any]) -> sa.Select[Any]:
        return select.with_for_update()

    def notify(self, conn: sa.Connection, queues: Iterable[str]) -> None:
        for queue in sorted(queues):
            conn.execute(sa.select(sa.func.pg_notify(WAKEUP_CHANNEL, f"{QUEUE_PREFIX}{queue}")))

    def notify_cancel(self, conn: sa.Connection, job_id: uuid.UUID) -> None:
        conn.execute(sa.select(sa.func.pg_notify(WAKEUP_CHANNEL, f"{CANCEL_PREFIX}{job_id}")))
