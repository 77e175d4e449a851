"""The lifecycle event catalogue: every fact about a job or worker, in one place.

Each event is emitted once, only after the state change it reports is committed,
and the job events are also written to the durable ``job_events`` table in the
same transaction as the change (the outbox that notifiers, the rules engine and
the dashboard feed tail).

==============================  ====================  =====================================
name                            class                 extra payload
==============================  ====================  =====================================
taskward.job.inserted           JobInserted           —
taskward.job.staged             JobStaged             — (scheduled/retryable → available)
taskward.job.started            JobStarted            queue_wait (s)
taskward.job.completed          JobCompleted          duration (s)
taskward.job.failed             JobFailed             duration, error, next_at
taskward.job.retry_scheduled    JobRetryScheduled     duration, next_at, reason
taskward.job.snoozed            JobSnoozed            duration, next_at
taskward.job.discarded          JobDiscarded          duration, error
taskward.job.cancelled          JobCancelled          duration (None if it never ran), reason
taskward.job.rescued            JobRescued            from_worker
taskward.job.released           JobReleased           from_worker (shutdown hand-back)
taskward.job.progress           JobProgress           progress
taskward.job.rate_limited       JobRateLimited        limit
taskward.worker.started         WorkerStarted         worker_id, queues
taskward.worker.stopped         WorkerStopped         worker_id
taskward.queue.paused           QueuePaused           queue
taskward.queue.resumed          QueueResumed          queue
taskward.queue.claimed          QueueClaimed          queue, worker_id, count, duration, error
taskward.maintenance.ran        MaintenanceRan        kind, worker_id, duration, jobs, error
taskward.retention.pruned       RetentionPruned       jobs (count by state), events (count)
taskward.admin.jobs             AdminJobsChanged      actor, action, target, count (an operator's
taskward.admin.queue            AdminQueueChanged     ... change via the admin service; no job id)
taskward.admin.schedule         AdminScheduleChanged  ...
==============================  ====================  =====================================

``taskward.queue.claimed`` reports one claim round trip (for claim metrics),
``taskward.maintenance.ran`` one run of a maintenance loop (stage, rescue, ...: its
span and last-success time) and ``taskward.retention.pruned`` what one step of
the pruner deleted; none is a job transition nor written to the outbox.
Finish events also carry ``span``, the attempt's span ids (exemplars, log and trace
links), which is not written to the outbox either.

``job`` on every job event is the snapshot *after* the transition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from taskward.core.job import Job
from taskward.core.outcomes import ErrorRecord, SpanRef


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every lifecycle event."""

    name: ClassVar[str] = "taskward.event"
    at: datetime

    def payload(self) -> dict[str, Any]:
        """The JSON-safe extra fields written to the outbox."""
        return {}


@dataclass(frozen=True, slots=True, kw_only=True)
class JobEvent(Event):
    job: Job


@dataclass(frozen=True, slots=True, kw_only=True)
class JobInserted(JobEvent):
    name: ClassVar[str] = "taskward.job.inserted"


@dataclass(frozen=True, slots=True, kw_only=True)
class JobStaged(JobEvent):
    name: ClassVar[str] = "taskward.job.staged"


@dataclass(frozen=True, slots=True, kw_only=True)
class JobStarted(JobEvent):
    name: ClassVar[str] = "taskward.job.started"
    queue_wait: float

    def payload(self) -> dict[str, Any]:
        return {"queue_wait": self.queue_wait}


@dataclass(frozen=True, slots=True, kw_only=True)
class _Finished(JobEvent):
    duration: float | None = None
    span: SpanRef | None = None

    def payload(self) -> dict[str, Any]:
        return {"duration": self.duration}


@dataclass(frozen=True, slots=True, kw_only=True)
class JobCompleted(_Finished):
    name: ClassVar[str] = "taskward.job.completed"


@dataclass(frozen=True, slots=True, kw_only=True)
class JobFailed(_Finished):
    """An attempt raised and the job will be retried at ``next_at``."""

    name: ClassVar[str] = "taskward.job.failed"
    error: ErrorRecord
    next_at: datetime

    def payload(self) -> dict[str, Any]:
        return {
            "duration": self.duration,
            "next_at": self.next_at.isoformat(),
            "error": {"type": self.error.type, "message": self.error.message},
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRetryScheduled(_Finished):
    """The task asked for a retry (``Retry``); no error is recorded."""

    name: ClassVar[str] = "taskward.job.retry_scheduled"
    next_at: datetime
    reason: str

    def payload(self) -> dict[str, Any]:
        return {
            "duration": self.duration,
            "next_at": self.next_at.isoformat(),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class JobSnoozed(_Finished):
    name: ClassVar[str] = "taskward.job.snoozed"
    next_at: datetime

    def payload(self) -> dict[str, Any]:
        return {"duration": self.duration, "next_at": self.next_at.isoformat()}


@dataclass(frozen=True, slots=True, kw_only=True)
class JobDiscarded(_Finished):
    name: ClassVar[str] = "taskward.job.discarded"
    error: ErrorRecord | None = None

    def payload(self) -> dict[str, Any]:
        error = {"type": self.error.type, "message": self.error.message} if self.error else None
        return {"duration": self.duration, "error": error}


@dataclass(frozen=True, slots=True, kw_only=True)
class JobCancelled(_Finished):
    name: ClassVar[str] = "taskward.job.cancelled"
    reason: str = "cancelled"

    def payload(self) -> dict[str, Any]:
        return {"duration": self.duration, "reason": self.reason}


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRescued(JobEvent):
    name: ClassVar[str] = "taskward.job.rescued"
    from_worker: str | None

    def payload(self) -> dict[str, Any]:
        return {"from_worker": self.from_worker}


@dataclass(frozen=True, slots=True, kw_only=True)
class JobReleased(JobEvent):
    """A worker shutting down handed the job back unfinished; the attempt is not counted."""

    name: ClassVar[str] = "taskward.job.released"
    from_worker: str

    def payload(self) -> dict[str, Any]:
        return {"from_worker": self.from_worker}


@dataclass(frozen=True, slots=True, kw_only=True)
class JobProgress(JobEvent):
    name: ClassVar[str] = "taskward.job.progress"
    progress: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        return {"progress": self.progress}


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRateLimited(JobEvent):
    name: ClassVar[str] = "taskward.job.rate_limited"
    limit: str

    def payload(self) -> dict[str, Any]:
        return {"limit": self.limit}


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerStarted(Event):
    name: ClassVar[str] = "taskward.worker.started"
    worker_id: str
    queues: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerStopped(Event):
    name: ClassVar[str] = "taskward.worker.stopped"
    worker_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class QueuePaused(Event):
    name: ClassVar[str] = "taskward.queue.paused"
    queue: str


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueResumed(Event):
    name: ClassVar[str] = "taskward.queue.resumed"
    queue: str


@dataclass(frozen=True, slots=True, kw_only=True)
class _WorkerReport(Event):
    """A timed piece of a worker's own work: not a job transition, not in the outbox."""

    worker_id: str
    duration: float
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueClaimed(_WorkerReport):
    """One claim round trip of a worker: ``count`` jobs in ``duration`` s, or ``error``."""

    name: ClassVar[str] = "taskward.queue.claimed"
    queue: str
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MaintenanceRan(_WorkerReport):
    """One run of a worker's maintenance loop ``kind``, ending at ``at``; ``jobs`` it moved."""

    name: ClassVar[str] = "taskward.maintenance.ran"
    kind: str
    jobs: tuple[Job, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionPruned(Event):
    """Finished jobs (``jobs``: count by state) and outbox ``events`` deleted by retention."""

    name: ClassVar[str] = "taskward.retention.pruned"
    jobs: dict[str, int] = field(default_factory=dict)
    events: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminEvent(Event):
    """An operator changed something through the admin service: who, what, how many."""

    actor: str
    action: str
    target: dict[str, Any] = field(default_factory=dict)
    count: int = 0

    def payload(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in ("actor", "action", "target", "count")}


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminJobsChanged(AdminEvent):
    name: ClassVar[str] = "taskward.admin.jobs"


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminQueueChanged(AdminEvent):
    name: ClassVar[str] = "taskward.admin.queue"


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminScheduleChanged(AdminEvent):
    name: ClassVar[str] = "taskward.admin.schedule"


FINISH_EVENTS: tuple[type[JobEvent], ...] = (
    JobCompleted,
    JobFailed,
    JobRetryScheduled,
    JobSnoozed,
    JobDiscarded,
    JobCancelled,
)
