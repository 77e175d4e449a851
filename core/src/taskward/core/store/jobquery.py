"""Finding jobs by filter: the one filter that listing and bulk actions share.

Pages are keyset-paginated on the id (UUIDv7, so newest first is id order):
a page costs the same on the first screen and the thousandth.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from taskward.core import schema
from taskward.core.job import Job
from taskward.core.store._rows import JOB_COLUMNS, job_from_row

J = schema.jobs


@dataclass(frozen=True, slots=True, kw_only=True)
class JobFilter:
    """Which jobs a list or a bulk action is about; every field given narrows it."""

    #: These jobs only.
    ids: tuple[uuid.UUID, ...] = ()
    #: Any of these queues, tasks, states.
    queues: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    #: Every one of these tags.
    tags: tuple[str, ...] = ()
    #: Inserted at or after ``since`` and before ``until``.
    since: datetime | None = None
    until: datetime | None = None
    #: Text found (case-insensitively) in any recorded error: type, message or traceback.
    error: str | None = None
    #: The trace the job was enqueued in.
    trace_id: str | None = None

    def where(self, dialect: str) -> sa.ColumnElement[bool]:
        """The SQL condition on ``taskward_jobs`` for ``dialect`` (sqlite, postgresql)."""
        clauses: list[sa.ColumnElement[bool]] = []
        for column, values in (
            (J.c.id, self.ids),
            (J.c.queue, self.queues),
            (J.c.task, self.tasks),
            (J.c.state, self.states),
        ):
            if len(values) == 1:
                clauses.append(column == values[0])
            elif values:
                clauses.append(column.in_(values))
        clauses += [_has_tag(tag, dialect) for tag in self.tags]
        if self.since is not None:
            clauses.append(J.c.inserted_at >= self.since)
        if self.until is not None:
            clauses.append(J.c.inserted_at < self.until)
        if self.error:
            clauses.append(sa.cast(J.c.errors, sa.Text).ilike(f"%{_escape(self.error)}%", "\\"))
        if self.trace_id:
            clauses.append(J.c.trace_id == self.trace_id)
        return sa.and_(sa.true(), *clauses)

    def describe(self) -> dict[str, Any]:
        """The fields that narrow it, JSON-ready (for admin events and messages)."""
        data = {k: v for k, v in asdict(self).items() if v not in ((), None)}
        for key in ("since", "until"):
            if key in data:
                data[key] = data[key].isoformat()
        if "ids" in data:
            data["ids"] = [str(i) for i in data["ids"]]
        return data


def _has_tag(tag: str, dialect: str) -> sa.ColumnElement[bool]:
    if dialect == "postgresql":  # jsonb containment, served by a GIN index if one exists
        return J.c.tags.op("@>")(sa.cast(sa.func.jsonb_build_array(tag), J.c.tags.type))
    each = sa.func.json_each(J.c.tags).table_valued("value")
    return sa.exists(sa.select(1).select_from(each).where(each.c.value == tag))


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def page(
    conn: sa.Connection, where: JobFilter, *, before: uuid.UUID | None = None, limit: int = 50
) -> list[Job]:
    """Up to ``limit`` matching jobs, newest first, older than the job ``before``."""
    stmt = sa.select(*JOB_COLUMNS).where(where.where(conn.dialect.name))
    if before is not None:
        stmt = stmt.where(J.c.id < before)
    stmt = stmt.order_by(J.c.id.desc()).limit(limit)
    return [job_from_row(row) for row in conn.execute(stmt)]


def count(conn: sa.Connection, where: sa.ColumnElement[bool]) -> int:
    return int(conn.scalar(sa.select(sa.func.count()).select_from(J).where(where)) or 0)


def newest_id(conn: sa.Connection, where: sa.ColumnElement[bool]) -> uuid.UUID | None:
    """The newest matching id: a bulk action stops there (later jobs were not counted)."""
    newest: uuid.UUID | None = conn.scalar(
        sa.select(J.c.id).where(where).order_by(J.c.id.desc()).limit(1)
    )
    return newest


def next_ids(
    conn: sa.Connection, where: sa.ColumnElement[bool], after: uuid.UUID | None, limit: int
) -> list[uuid.UUID]:
    """The next ``limit`` matching ids after ``after``, oldest first: a bulk action's batch."""
    stmt = sa.select(J.c.id).where(where)
    if after is not None:
        stmt = stmt.where(J.c.id > after)
    return list(conn.scalars(stmt.order_by(J.c.id).limit(limit)))


def ids_ending(conn: sa.Connection, tail: str, limit: int = 2) -> list[uuid.UUID]:
    """Ids whose hex text ends in ``tail`` (at most 12 hex digits: the last group)."""
    text = sa.cast(J.c.id, sa.String)
    stmt = sa.select(J.c.id).where(text.like(f"%{tail.lower()}")).limit(limit)
    return list(conn.scalars(stmt))
