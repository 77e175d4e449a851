"""The SQL of retention: finished jobs past their age, deleted with what hangs off them.

A job is deleted with its execution log records, its workflow rows and its
outbox events, except events some relay consumer has not read yet: those stay
until the event pass trims them. A job another unfinished job still waits for
(``depends_on``) is kept until that one finishes. Every delete re-checks the
condition it was chosen by, so a job retried by an operator in between is left
alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from taskward.core import schema
from taskward.core._json import dumps
from taskward.core.job import Job
from taskward.core.states import FINISHED
from taskward.core.store._rows import JOB_COLUMNS, job_from_row
from taskward.core.store.outbox import Outbox, Position, newest_event

J = schema.jobs
E = schema.job_events
D = schema.job_dependencies
WJ = schema.workflow_jobs
LOGS = schema.job_logs
WAITER = J.alias("waiter")
PICKED = J.alias("picked")
UUID_ARRAY = ARRAY(UUID(as_uuid=True))
FINISHED_STATES = sorted(state.value for state in FINISHED)


@dataclass(frozen=True, slots=True)
class Due:
    """The jobs one pass deletes: ``state`` jobs finished before ``before``, of
    ``queue`` only, or of every queue but ``other_than``."""

    state: str
    before: datetime
    queue: str | None = None
    other_than: tuple[str, ...] = ()

    def where(self, jobs: sa.FromClause) -> sa.ColumnElement[bool]:
        """The condition on ``jobs`` (the table or an alias of it)."""
        waited_on = (
            sa.select(D.c.job_id)
            .join(WAITER, WAITER.c.id == D.c.job_id)
            .where(D.c.depends_on == jobs.c.id, WAITER.c.state.not_in(FINISHED_STATES))
        )
        terms = [jobs.c.state == self.state, jobs.c.finished_at < self.before]
        if self.queue is not None:
            terms.append(jobs.c.queue == self.queue)
        if self.other_than:
            terms.append(jobs.c.queue.not_in(self.other_than))
        return sa.and_(*terms, ~waited_on.exists())


class RetentionStore:
    """Retention's reads and deletes on one dialect's database.

    A batch is deleted server-side: on PostgreSQL in one statement (the jobs chosen
    and deleted, and what hangs off them, in data-modifying CTEs); on SQLite by the
    jobs' ``DELETE ... RETURNING`` and one statement per other table, the ids passed
    back as one JSON array. Ids never cross to the client one parameter each.
    """

    def __init__(self, dialect: str) -> None:
        self.outbox = Outbox(dialect)
        self.postgresql = dialect == "postgresql"

    def due(
        self, conn: sa.Connection, due: Due, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> list[Job]:
        """Up to ``limit`` jobs ``due`` selects, oldest first, after (finished_at, id)
        ``after`` (for an archive step, which may leave some behind)."""
        stmt = sa.select(*JOB_COLUMNS).where(due.where(J))
        if after is not None:
            stmt = stmt.where(sa.tuple_(J.c.finished_at, J.c.id) > sa.tuple_(*after))
        stmt = stmt.order_by(J.c.finished_at, J.c.id).limit(limit)
        return [job_from_row(row) for row in conn.execute(stmt)]

    def delete(
        self,
        conn: sa.Connection,
        due: Due,
        limit: int,
        read_by_all: Position | None,
        ids: Sequence[uuid.UUID] | None = None,
    ) -> int:
        """Delete up to ``limit`` jobs ``due`` selects (of ``ids`` only, if given) with
        their logs, workflow rows and the events every consumer has read; how many went."""
        chosen = sa.select(PICKED.c.id).where(due.where(PICKED))
        if ids is not None:
            chosen = chosen.where(self._given(PICKED.c.id, ids))
        chosen = chosen.order_by(PICKED.c.finished_at).limit(limit)
        if self.postgresql:
            chosen = chosen.with_for_update(skip_locked=True)
        deleted = J.delete().where(J.c.id.in_(chosen.scalar_subquery()))
        if self.postgresql:
            gone = deleted.returning(J.c.id).cte("gone")
            ids_gone = sa.select(gone.c.id)
            parts = self._dependents(lambda column: column.in_(ids_gone), read_by_all)
            count = sa.select(sa.func.count()).select_from(gone)
            stmt = count.add_cte(*(part.cte(f"d{n}") for n, part in enumerate(parts)))
            return int(conn.execute(stmt).scalar_one())
        hexes = conn.execute(deleted.returning(_as_hex(J.c.id))).scalars().all()
        if hexes:
            listed = _json_ids(dumps(hexes))
            for part in self._dependents(lambda column: _as_hex(column).in_(listed), read_by_all):
                conn.execute(part)
        return len(hexes)

    def _dependents(
        self,
        among: Callable[[sa.ColumnElement[Any]], sa.ColumnElement[bool]],
        read_by_all: Position | None,
    ) -> list[sa.Delete]:
        """Deletes of what hangs off the deleted jobs (``among(job_id column)``)."""
        events = [among(E.c.job_id), E.c.id < newest_event()]
        if read_by_all is not None:
            events.append(self.outbox.read_by(E.c.txid, E.c.id, read_by_all))
        return [
            LOGS.delete().where(among(LOGS.c.job_id)),
            D.delete().where(among(D.c.job_id)),
            WJ.delete().where(among(WJ.c.job_id)),
            E.delete().where(*events),
        ]

    def _given(self, column: sa.ColumnElement[Any], ids: Sequence[uuid.UUID]) -> Any:
        if self.postgresql:
            return column == sa.any_(sa.bindparam(None, list(ids), type_=UUID_ARRAY))
        return _as_hex(column).in_(_json_ids(dumps([i.hex for i in ids])))


def _as_hex(column: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    """A uuid column as SQLite stores it (32 hex digits), without conversion."""
    return sa.type_coerce(column, sa.String)


def _json_ids(array: str) -> sa.Select[Any]:
    """The elements of a JSON array parameter, as rows (SQLite's ``json_each``)."""
    return sa.select(sa.column("value")).select_from(sa.func.json_each(sa.bindparam(None, array)))
