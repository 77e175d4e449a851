"""Reading the outbox (``taskward_job_events``) in commit-safe order, and consumer cursors.

Why (txid, id) and a horizon on PostgreSQL: a sequence hands out event ids when
rows are inserted, not when they commit, so a transaction holding id 7 can
commit after one holding id 8. A reader that went by id alone would pass 8 and
never see 7. Each event row records its writing transaction's id (``txid``, a
column default) and readers take only events whose ``txid`` is below the
oldest transaction of this database still running (:data:`HORIZON`): every such
transaction has ended, and any transaction that starts later gets a larger id,
so nothing can ever appear behind what was read. Events are read in (txid, id)
order: a transaction's events together, in the order it wrote them. The price
is latency, not loss: a long writing transaction holds back what is read after
it until it ends. The alternative (read by id, remember the gaps, re-read them
for a bounded time) either delivers out of order or gives up on a gap after a
timeout that a slow transaction can outlive.

SQLite has one writer at a time, so ids commit in order and the position is
the id alone (``txid`` is 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from taskward.core import schema

E = schema.job_events
C = schema.event_consumers

#: The read horizon, as ``bigint``: the oldest transaction of this database running
#: when the statement's snapshot was taken (or, with none, the snapshot's ``xmax``).
#: Every event with a smaller txid is final and visible, and none can appear later.
#: Transactions of other databases never write here, so they are left out (known
#: from ``pg_stat_activity``, read after the snapshot; any it cannot place, such as
#: prepared transactions or sessions hidden from this role, count as ours).
HORIZON: sa.ColumnElement[int] = sa.literal_column(
    "(SELECT coalesce(min(x::text::bigint), "
    "pg_snapshot_xmax(pg_current_snapshot())::text::bigint) "
    "FROM pg_snapshot_xip(pg_current_snapshot()) AS x "
    "WHERE NOT EXISTS (SELECT FROM pg_stat_activity AS a "
    "WHERE a.datname <> current_database() "
    "AND a.backend_xid::text::bigint = x::text::bigint % 4294967296))"
)
#: Larger than any event id: ``Position(txid, LAST)`` is after every event of ``txid``.
LAST = 2**63 - 1
EVENT_COLUMNS = tuple(
    E.c[name]
    for name in ("id", "name", "at", "job_id", "queue", "task", "state", "attempt", "data", "txid")
)


class Position(NamedTuple):
    """A place in the outbox: everything at or before it has been read."""

    txid: int
    id: int


START = Position(0, 0)


def newest_event() -> sa.ScalarSelect[Any]:
    """The newest event's id. Deletes spare that event: SQLite hands out ``max(id) + 1``,
    so an emptied outbox would give old ids again, behind every consumer's cursor."""
    return sa.select(sa.func.max(E.c.id)).scalar_subquery()


@dataclass(frozen=True, slots=True)
class Outbox:
    """The outbox's read side, for one dialect."""

    dialect: str

    @property
    def ordered_by_txid(self) -> bool:
        return self.dialect == "postgresql"

    def read(self, conn: sa.Connection, after: Position, limit: int) -> list[sa.Row[Any]]:
        """Up to ``limit`` committed events after ``after``, in order (see the module)."""
        stmt = sa.select(*EVENT_COLUMNS).limit(limit)
        if self.ordered_by_txid:
            stmt = stmt.where(
                _pair(E.c.txid, E.c.id) > _pair(after.txid, after.id),
                E.c.txid < HORIZON,
            ).order_by(E.c.txid, E.c.id)
        else:
            stmt = stmt.where(E.c.id > after.id).order_by(E.c.id)
        return list(conn.execute(stmt))

    def head(self, conn: sa.Connection) -> Position:
        """A position after every event committed so far: where a new reader starts
        when it wants only what happens from now on."""
        if self.ordered_by_txid:
            return Position(int(conn.execute(sa.select(HORIZON)).scalar_one()) - 1, LAST)
        return Position(0, self.newest_id(conn))

    def newest_id(self, conn: sa.Connection) -> int:
        return int(conn.scalar(sa.select(sa.func.max(E.c.id))) or 0)

    def position_of(self, conn: sa.Connection, event_id: int) -> Position | None:
        """The position of event ``event_id``, or None when it is not (or no longer) there."""
        txid = conn.execute(sa.select(E.c.txid).where(E.c.id == event_id)).first()
        if txid is None:
            return None
        return Position(txid[0] or 0, event_id)

    def trim(
        self, conn: sa.Connection, read_by_all: Position | None, older_than: datetime, limit: int
    ) -> int:
        """Delete, among the ``limit`` oldest events, those every consumer has read
        (``read_by_all``; None: no consumer) and written before ``older_than``.

        Looking only at the oldest ``limit`` bounds the work when nothing is due.
        """
        oldest = sa.select(E.c.id, E.c.at, E.c.txid).order_by(E.c.id).limit(limit).subquery()
        due = sa.select(oldest.c.id).where(
            oldest.c.at < older_than,
            oldest.c.id < newest_event(),
        )
        if read_by_all is not None:
            due = due.where(self.read_by(oldest.c.txid, oldest.c.id, read_by_all))
        return int(conn.execute(E.delete().where(E.c.id.in_(due))).rowcount)

    def read_by(
        self, txid: sa.ColumnElement[Any], event_id: sa.ColumnElement[Any], position: Position
    ) -> sa.ColumnElement[bool]:
        """Events at or before ``position`` (read by a consumer standing there)."""
        if self.ordered_by_txid:
            return _pair(txid, event_id) <= _pair(position.txid, position.id)
        return event_id <= position.id

    # -- consumers -------------------------------------------------------------------
    def cursor(self, conn: sa.Connection, name: str) -> Position | None:
        row = conn.execute(sa.select(C.c.txid, C.c.event_id).where(C.c.name == name)).first()
        return Position(row[0], row[1]) if row else None

    def register(self, conn: sa.Connection, name: str, at: Position, now: datetime) -> Position:
        """Create consumer ``name`` at ``at`` unless it exists; its cursor either way."""
        conn.execute(
            self._insert(C)
            .values(name=name, txid=at.txid, event_id=at.id, registered_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=[C.c.name])
        )
        found = self.cursor(conn, name)
        assert found is not None
        return found

    def advance(self, conn: sa.Connection, name: str, to: Position, now: datetime) -> bool:
        """Move ``name``'s cursor forward to ``to`` (never back); False if it is unknown."""
        ahead = _pair(C.c.txid, C.c.event_id) < _pair(to.txid, to.id)
        stmt = (
            C.update()
            .where(C.c.name == name, ahead)
            .values(txid=to.txid, event_id=to.id, updated_at=now)
        )
        if conn.execute(stmt).rowcount:
            return True
        return self.cursor(conn, name) is not None

    def seek(self, conn: sa.Connection, name: str, to: Position, now: datetime) -> None:
        """Put ``name``'s cursor at ``to``, forward or back (creating the consumer)."""
        values = {"txid": to.txid, "event_id": to.id, "updated_at": now}
        stmt = self._insert(C).values(name=name, registered_at=now, **values)
        conn.execute(stmt.on_conflict_do_update(index_elements=[C.c.name], set_=values))

    def drop(self, conn: sa.Connection, name: str) -> bool:
        return bool(conn.execute(C.delete().where(C.c.name == name)).rowcount)

    def consumers(self, conn: sa.Connection) -> dict[str, Position]:
        rows = conn.execute(sa.select(C.c.name, C.c.txid, C.c.event_id).order_by(C.c.name))
        return {name: Position(txid, event_id) for name, txid, event_id in rows}

    def slowest(self, conn: sa.Connection) -> Position | None:
        """The position every consumer has passed, or None when there are none."""
        cursors = self.consumers(conn).values()
        return min(cursors) if cursors else None

    def _insert(self, table: sa.Table) -> Any:
        return (postgresql if self.dialect == "postgresql" else sqlite).insert(table)


def _pair(first: Any, second: Any) -> sa.Tuple:
    """A row value ``(first, second)``: compared as a pair, as the index is ordered."""
    return sa.tuple_(first, second)
