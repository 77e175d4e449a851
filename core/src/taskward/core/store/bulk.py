"""Operators' changes to many jobs: a few set-based statements per bounded batch.

The admin service walks a filter's ids in batches (:func:`~.jobquery.next_ids`) and
calls one of these per batch, each batch in its own transaction, so locks stay
short and a large action shows progress. Every changed job gets its outbox row,
carrying the actor, in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from taskward.core import schema
from taskward.core.events import AdminEvent, JobCancelled, JobStaged
from taskward.core.states import WAITING, JobState

if TYPE_CHECKING:
    from taskward.core.store.sql import SqlStore

J = schema.jobs
E = schema.job_events

#: An operator may retry a job in any state but these (it would run twice).
RETRY_FROM = tuple(s.value for s in JobState if s not in (JobState.EXECUTING, JobState.AVAILABLE))
#: Waiting jobs are cancelled at once; executing ones are asked to stop.
CANCEL_FROM = (*sorted(s.value for s in WAITING), JobState.EXECUTING.value)
#: A running job is cancelled first, never deleted under its worker.
DELETE_FROM = tuple(s.value for s in JobState if s is not JobState.EXECUTING)


def retry(
    store: SqlStore, conn: sa.Connection, ids: Sequence[uuid.UUID], now: datetime, actor: str
) -> int:
    """Make ``ids`` available now (one more attempt if they had used them all)."""
    more = sa.case((J.c.max_attempts > J.c.attempt, J.c.max_attempts), else_=J.c.attempt + 1)
    stmt = (
        J.update()
        .where(store.id_in(J.c.id, ids), J.c.state.in_(RETRY_FROM))
        .values(
            state=JobState.AVAILABLE.value,
            scheduled_at=now,
            finished_at=None,
            max_attempts=more,
            cancel_requested=False,
        )
        .returning(J.c.id, J.c.queue, J.c.task, J.c.attempt)
    )
    rows = conn.execute(stmt).all()
    if rows:
        data = {"actor": actor}
        conn.execute(
            E.insert(),
            [
                {
                    "job_id": job_id,
                    "name": JobStaged.name,
                    "at": now,
                    "queue": queue,
                    "task": task,
                    "state": JobState.AVAILABLE.value,
                    "attempt": attempt,
                    "data": data,
                }
                for job_id, queue, task, attempt in rows
            ],
        )
        store.notify(conn, {row.queue for row in rows})
    return len(rows)


def cancel(
    store: SqlStore,
    conn: sa.Connection,
    ids: Sequence[uuid.UUID],
    now: datetime,
    reason: str,
    released_key: Callable[[str | None], str | None],
) -> tuple[list[JobCancelled], int]:
    """Cancel the waiting jobs of ``ids`` and ask workers to stop the executing ones.

    The cancellations go through the store's transitions (their dependents are
    cancelled too; ``released_key`` gives the unique key a finished job keeps).
    Returns their events, to emit after commit, and how many executing jobs were
    asked to stop.
    """
    jobs = store.lock_jobs(conn, sa.and_(store.id_in(J.c.id, ids), J.c.state.in_(CANCEL_FROM)))
    events = [
        JobCancelled(
            at=now,
            job=job.evolve(
                state=JobState.CANCELLED, finished_at=now, unique_key=released_key(job.unique_key)
            ),
            reason=reason,
        )
        for job in jobs
        if job.state in WAITING
    ]
    store.write_transitions(conn, events)
    running = [j.id for j in jobs if j.state is JobState.EXECUTING and not j.cancel_requested]
    if running:
        conn.execute(J.update().where(store.id_in(J.c.id, running)).values(cancel_requested=True))
        for job_id in running:
            store.notify_cancel(conn, job_id)
    return events, len(running)


def delete(store: SqlStore, conn: sa.Connection, ids: Sequence[uuid.UUID]) -> int:
    """Delete ``ids`` that are not executing, with their logs, events and dependencies."""
    gone = list(
        conn.scalars(
            J.delete().where(store.id_in(J.c.id, ids), J.c.state.in_(DELETE_FROM)).returning(J.c.id)
        )
    )
    if gone:
        for table, column in (
            (schema.job_logs, schema.job_logs.c.job_id),
            (E, E.c.job_id),
            (schema.job_dependencies, schema.job_dependencies.c.job_id),
            (schema.workflow_jobs, schema.workflow_jobs.c.job_id),
        ):
            conn.execute(table.delete().where(store.id_in(column, gone)))
    return len(gone)


def record(conn: sa.Connection, event: AdminEvent, queue: str | None = None) -> None:
    """Write an admin event to the outbox (it has no job)."""
    row = {"job_id": None, "name": event.name, "at": event.at, "queue": queue}
    conn.execute(E.insert().values(**row, data=event.payload()))
