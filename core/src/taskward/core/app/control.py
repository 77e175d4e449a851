"""An operator's changes to one job, each inside the caller's transaction.

Each returns the job as it now is and the events to emit once the transaction
commits; the app opens the transaction and emits.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa

from taskward.core import schema
from taskward.core.enqueue import released_key
from taskward.core.errors import JobNotFoundError
from taskward.core.events import JobCancelled, JobEvent, JobStaged
from taskward.core.job import Job
from taskward.core.states import WAITING, JobState
from taskward.core.store import SqlStore

J = schema.jobs


def cancel(
    store: SqlStore, conn: sa.Connection, job_id: uuid.UUID, now: datetime, reason: str
) -> tuple[Job, list[JobEvent]]:
    """Cancel a waiting job now, or ask the worker running it to stop it."""
    job = _locked(store, conn, job_id)
    events: list[JobEvent] = []
    if job.state in WAITING:
        job = job.evolve(
            state=JobState.CANCELLED, finished_at=now, unique_key=released_key(job.unique_key)
        )
        events = [JobCancelled(at=now, job=job, reason=reason)]
        store.write_transitions(conn, events)
    elif job.state is JobState.EXECUTING and not job.cancel_requested:
        store.request_cancel(conn, job.id)
        job = job.evolve(cancel_requested=True)
    return job, events


def retry(
    store: SqlStore, conn: sa.Connection, job_id: uuid.UUID, now: datetime
) -> tuple[Job, list[JobEvent]]:
    """Make a finished or waiting job available to run now (one more attempt if needed)."""
    job = _locked(store, conn, job_id)
    if job.state is JobState.EXECUTING or job.state is JobState.AVAILABLE:
        return job, []
    job = job.evolve(
        state=JobState.AVAILABLE,
        scheduled_at=now,
        finished_at=None,
        max_attempts=max(job.max_attempts, job.attempt + 1),
    )
    store.set_max_attempts(conn, job.id, job.max_attempts)
    events: list[JobEvent] = [JobStaged(at=now, job=job)]
    store.write_transitions(conn, events)
    return job, events


def _locked(store: SqlStore, conn: sa.Connection, job_id: uuid.UUID) -> Job:
    jobs = store.lock_jobs(conn, J.c.id == job_id)
    if not jobs:
        raise JobNotFoundError(job_id)
    return jobs[0]


def as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    """A job id from a UUID or its text; text that is no UUID names no job."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except ValueError:
        raise JobNotFoundError(value) from None
