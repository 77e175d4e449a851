"""Reading jobs, events and queue backlogs: plain selects, the same on every dialect."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from taskward.core import schema
from taskward.core.job import Job
from taskward.core.store._rows import JOB_COLUMNS, job_from_row

J = schema.jobs
E = schema.job_events


class JobReads:
    """The store's reads (mixed into :class:`~taskward.core.store.sql.SqlStore`)."""

    def get(self, conn: sa.Connection, job_id: uuid.UUID) -> Job | None:
        row = conn.execute(sa.select(*JOB_COLUMNS).where(J.c.id == job_id)).first()
        return job_from_row(row) if row else None

    def list_jobs(
        self,
        conn: sa.Connection,
        *,
        queue: str | None = None,
        state: str | None = None,
        task: str | None = None,
        trace_id: str | None = None,
        before: uuid.UUID | None = None,
        limit: int = 50,
    ) -> list[Job]:
        """Newest first, keyset-paginated by id (ids are time-ordered)."""
        stmt = sa.select(*JOB_COLUMNS).order_by(J.c.id.desc()).limit(limit)
        for column, value in (
            (J.c.queue, queue),
            (J.c.state, state),
            (J.c.task, task),
            (J.c.trace_id, trace_id),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if before is not None:
            stmt = stmt.where(J.c.id < before)
        return [job_from_row(r) for r in conn.execute(stmt)]

    def count_by_state(self, conn: sa.Connection) -> dict[tuple[str, str], int]:
        stmt = sa.select(J.c.queue, J.c.state, sa.func.count()).group_by(J.c.queue, J.c.state)
        return {(q, s): n for q, s, n in conn.execute(stmt)}

    def backlogs(
        self, conn: sa.Connection, queues: Sequence[str], now: datetime
    ) -> dict[str, tuple[int, datetime]]:
        """Per queue with work: how many jobs are available now, and the oldest one's time."""
        stmt = (
            sa.select(J.c.queue, sa.func.count(), sa.func.min(J.c.scheduled_at))
            .where(J.c.state == "available", J.c.queue.in_(sorted(queues)), J.c.scheduled_at <= now)
            .group_by(J.c.queue)
        )
        return {queue: (depth, oldest) for queue, depth, oldest in conn.execute(stmt)}

    def events_for(self, conn: sa.Connection, job_id: uuid.UUID) -> list[dict[str, Any]]:
        stmt = sa.select(E).where(E.c.job_id == job_id).order_by(E.c.id)
        return [dict(r) for r in conn.execute(stmt).mappings()]

    def executing_by(
        self, conn: sa.Connection, worker_id: str, claimed_before: datetime
    ) -> list[Job]:
        """Jobs executing under ``worker_id`` whose claim is older than ``claimed_before``."""
        return jobs_where(
            conn,
            sa.and_(
                J.c.state == "executing",
                J.c.attempted_by == worker_id,
                J.c.attempted_at < claimed_before,
            ),
        )

    def cancel_requested(self, conn: sa.Connection, worker_id: str) -> set[uuid.UUID]:
        stmt = sa.select(J.c.id).where(
            J.c.state == "executing", J.c.attempted_by == worker_id, J.c.cancel_requested
        )
        return set(conn.scalars(stmt))


def jobs_where(conn: sa.Connection, where: sa.ColumnElement[bool]) -> list[Job]:
    """The jobs matching ``where``, oldest first, without locking them (any dialect)."""
    return [job_from_row(r) for r in conn.execute(select_jobs(where))]


def select_jobs(where: sa.ColumnElement[bool], limit: int | None = None) -> sa.Select[Any]:
    return sa.select(*JOB_COLUMNS).where(where).order_by(J.c.id).limit(limit)
