"""Pure functions from an attempt's outcome to the job's next snapshot and its event."""

from __future__ import annotations

from datetime import datetime

from taskward.core.enqueue import released_key
from taskward.core.events import (
    JobCancelled,
    JobCompleted,
    JobDiscarded,
    JobEvent,
    JobFailed,
    JobReleased,
    JobRescued,
    JobRetryScheduled,
    JobSnoozed,
)
from taskward.core.job import Job
from taskward.core.outcomes import ErrorRecord, Outcome
from taskward.core.states import JobState

WORKER_LOST = "taskward.WorkerLost"


def after_attempt(job: Job, outcome: Outcome, now: datetime) -> JobEvent:
    """The event (carrying the new snapshot) that settles ``job`` with ``outcome``."""
    errors = [*job.errors, outcome.error.to_json()] if outcome.error else job.errors
    duration = outcome.duration
    if outcome.kind == "completed":
        done = job.evolve(
            state=JobState.COMPLETED,
            finished_at=now,
            result=outcome.result,
            unique_key=released_key(job.unique_key),
        )
        return JobCompleted(at=now, job=done, duration=duration, span=outcome.span)
    if outcome.kind == "retryable":
        assert outcome.next_at is not None
        retry = job.evolve(state=JobState.RETRYABLE, scheduled_at=outcome.next_at, errors=errors)
        if outcome.error is None:
            return JobRetryScheduled(
                at=now,
                job=retry,
                duration=duration,
                span=outcome.span,
                next_at=outcome.next_at,
                reason=outcome.reason or "",
            )
        return JobFailed(
            at=now,
            job=retry,
            duration=duration,
            span=outcome.span,
            error=outcome.error,
            next_at=outcome.next_at,
        )
    if outcome.kind == "snoozed":
        assert outcome.next_at is not None
        later = job.evolve(
            state=JobState.SCHEDULED, scheduled_at=outcome.next_at, attempt=max(0, job.attempt - 1)
        )
        return JobSnoozed(
            at=now, job=later, duration=duration, span=outcome.span, next_at=outcome.next_at
        )
    finished = job.evolve(finished_at=now, errors=errors, unique_key=released_key(job.unique_key))
    if outcome.kind == "cancelled":
        return JobCancelled(
            at=now,
            job=finished.evolve(state=JobState.CANCELLED),
            duration=duration,
            span=outcome.span,
            reason=outcome.reason or "cancelled",
        )
    return JobDiscarded(
        at=now,
        job=finished.evolve(state=JobState.DISCARDED),
        duration=duration,
        span=outcome.span,
        error=outcome.error,
    )


def released(job: Job, worker_id: str, now: datetime) -> JobReleased:
    """A job handed back on shutdown: available again, the attempt not counted."""
    back = job.evolve(
        state=JobState.AVAILABLE,
        attempt=max(0, job.attempt - 1),
        scheduled_at=now,
        attempted_by=None,
    )
    return JobReleased(at=now, job=back, from_worker=worker_id)


def rescued(job: Job, now: datetime) -> JobRescued:
    """An orphan of a dead worker: retried if attempts remain, else discarded."""
    error = ErrorRecord(
        attempt=job.attempt,
        at=now,
        type=WORKER_LOST,
        message=f"worker {job.attempted_by} stopped heartbeating during attempt {job.attempt}",
        traceback="",
    )
    errors = [*job.errors, error.to_json()]
    if job.attempt < job.max_attempts:
        nxt = job.evolve(state=JobState.AVAILABLE, scheduled_at=now, errors=errors)
    else:
        nxt = job.evolve(
            state=JobState.DISCARDED,
            finished_at=now,
            errors=errors,
            unique_key=released_key(job.unique_key),
        )
    return JobRescued(at=now, job=nxt, from_worker=job.attempted_by)
