"""Releasing dependents: in the same transaction that finishes their last dependency.

A dependent waits as ``scheduled`` with :data:`AWAITING` as its scheduled time,
a moment the stager never reaches. When a dependency finishes, its waiting
dependents are locked (in id order) and looked at again: all dependencies
completed → ``available``; one discarded or cancelled → ``cancelled`` under the
default policy, or counted as done under ``"run"``. Cancelling cascades to the
dependents' own dependents, breadth first, in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from taskward.core import schema
from taskward.core.enqueue import released_key
from taskward.core.events import JobCancelled, JobEvent, JobStaged
from taskward.core.job import Job
from taskward.core.states import FINISHED, JobState
from taskward.core.store import SqlStore
from taskward.core.workflows import edges

#: The scheduled time of a job waiting for its dependencies: the stager never gets there.
AWAITING = datetime(9999, 12, 31, tzinfo=UTC)
CANCEL, RUN = "cancel", "run"
FAILED = frozenset({JobState.DISCARDED, JobState.CANCELLED})
J = schema.jobs


def is_awaiting(job: Job) -> bool:
    """Whether ``job`` is waiting for its dependencies."""
    return job.state is JobState.SCHEDULED and job.scheduled_at == AWAITING


def settle(
    store: SqlStore, conn: sa.Connection, candidates: Collection[uuid.UUID], now: datetime
) -> list[JobEvent]:
    """Release or cancel whichever of ``candidates`` their dependencies now allow."""
    settled: list[JobEvent] = []
    frontier = set(candidates)
    while frontier:
        waiting = store.lock_jobs(
            conn,
            sa.and_(
                J.c.id.in_(frontier),
                J.c.state == JobState.SCHEDULED.value,
                J.c.scheduled_at == AWAITING,
            ),
        )
        if not waiting:
            break
        ids = [job.id for job in waiting]
        states = edges.dependency_states(conn, ids)
        policy = edges.policies(conn, ids)
        events = [
            event
            for job in waiting
            if (event := decide(job, states[job.id], policy.get(job.id, CANCEL), now))
        ]
        store.write_transitions(conn, events, hooks=False)
        settled += events
        ended = [e.job.id for e in events if e.job.state in FINISHED]
        frontier = edges.dependents(conn, ended)
    return settled


def decide(
    job: Job, dependencies: Sequence[tuple[uuid.UUID, JobState]], policy: str, now: datetime
) -> JobEvent | None:
    """What a waiting job's dependencies mean for it now, if anything."""
    failed = [(dep, state) for dep, state in dependencies if state in FAILED]
    if failed and policy == CANCEL:
        dep, state = failed[0]
        done = job.evolve(
            state=JobState.CANCELLED, finished_at=now, unique_key=released_key(job.unique_key)
        )
        return JobCancelled(at=now, job=done, reason=f"dependency {dep} was {state.value}")
    enough = FINISHED if policy == RUN else {JobState.COMPLETED}
    if all(state in enough for _, state in dependencies):
        return JobStaged(at=now, job=job.evolve(state=JobState.AVAILABLE, scheduled_at=now))
    return None
