"""Workers, paused queues, leases and the features' own rows: small upserts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.dml import Insert

from taskward.core import schema
from taskward.core.store.dialect import Dialect

W = schema.workers
Q = schema.queues
L = schema.leases


class Registry(Dialect):
    """Worker registrations and heartbeats, queue pauses, leases, feature-table upserts."""

    def register_worker(
        self,
        conn: sa.Connection,
        worker_id: str,
        host: str,
        pid: int,
        queues: dict[str, int],
        now: datetime,
    ) -> None:
        conn.execute(W.delete().where(W.c.id == worker_id))
        conn.execute(
            W.insert().values(
                id=worker_id, host=host, pid=pid, queues=queues, started_at=now, heartbeat_at=now
            )
        )

    def heartbeat(self, conn: sa.Connection, worker_id: str, now: datetime) -> bool:
        """Refresh the worker's heartbeat; False if its row was removed (it was rescued)."""
        return bool(
            conn.execute(W.update().where(W.c.id == worker_id).values(heartbeat_at=now)).rowcount
        )

    def unregister_worker(self, conn: sa.Connection, worker_id: str) -> None:
        conn.execute(W.delete().where(W.c.id == worker_id))

    def workers(self, conn: sa.Connection) -> list[dict[str, Any]]:
        return [dict(r) for r in conn.execute(sa.select(W).order_by(W.c.id)).mappings()]

    def stale_workers(self, conn: sa.Connection, stale_before: datetime) -> list[str]:
        return list(conn.scalars(sa.select(W.c.id).where(W.c.heartbeat_at < stale_before)))

    def delete_workers(self, conn: sa.Connection, worker_ids: Sequence[str]) -> None:
        if worker_ids:
            conn.execute(W.delete().where(W.c.id.in_(worker_ids)))

    def set_paused(self, conn: sa.Connection, queue: str, paused: bool, now: datetime) -> None:
        """Pause or resume ``queue``; a resume wakes its workers when ``conn`` commits."""
        stmt = self._upsert(Q, {"name": queue, "paused": paused, "updated_at": now}, ["name"])
        conn.execute(stmt)
        if not paused:
            self.notify(conn, [queue])

    def paused_queues(self, conn: sa.Connection) -> set[str]:
        return set(conn.scalars(sa.select(Q.c.name).where(Q.c.paused)))

    def try_lease(
        self, conn: sa.Connection, name: str, holder: str, now: datetime, expires_at: datetime
    ) -> bool:
        """Take or renew the lease ``name``; True when ``holder`` now holds it."""
        insert = self._insert_into(L).values(name=name, holder=holder, expires_at=expires_at)
        stmt = insert.on_conflict_do_update(  # type: ignore[attr-defined]
            index_elements=[L.c.name],
            set_={"holder": holder, "expires_at": expires_at},
            where=sa.or_(L.c.holder == holder, L.c.expires_at < now),
        ).returning(L.c.holder)
        return conn.execute(stmt).scalar() == holder

    def release_lease(self, conn: sa.Connection, name: str, holder: str) -> None:
        conn.execute(L.delete().where(L.c.name == name, L.c.holder == holder))

    def insert_missing(
        self, conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]], keys: list[str]
    ) -> None:
        """Insert ``rows``, skipping those whose ``keys`` are already taken."""
        if rows:
            stmt = self._insert_into(table).on_conflict_do_nothing(  # type: ignore[attr-defined]
                index_elements=keys
            )
            conn.execute(stmt, list(rows))

    def upsert_rows(
        self, conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]], keys: list[str]
    ) -> None:
        """Insert ``rows``, or update the other columns where ``keys`` are taken."""
        if rows:
            stmt = self._insert_into(table)
            stmt = stmt.on_conflict_do_update(  # type: ignore[attr-defined]
                index_elements=keys,
                set_={c: stmt.excluded[c] for c in rows[0] if c not in keys},  # type: ignore[attr-defined]
            )
            conn.execute(stmt, list(rows))

    def _upsert(self, table: sa.Table, values: dict[str, Any], keys: list[str]) -> Insert:
        stmt = self._insert_into(table).values(**values)
        return stmt.on_conflict_do_update(  # type: ignore[attr-defined,no-any-return]
            index_elements=keys, set_={k: v for k, v in values.items() if k not in keys}
        )
