"""Event metrics: counters and histograms fed by one subscriber on the event spine.

Nothing here is called from worker code: every number comes from a lifecycle
event delivered on the subscriber's own thread (so a slow or broken registry
can never slow a job), except the in-flight gauge, which a middleware keeps
exactly (it wraps the call, like the span and the log capture).

Attempt outcomes: completed (``JobCompleted``), retryable (``JobFailed``,
``JobRetryScheduled``), discarded (``JobDiscarded``), cancelled (``JobCancelled``
of a job that ran). Snoozes do not use up an attempt and are not counted;
rescued attempts are counted by ``taskward_jobs_rescued_total``.

Exemplars: finish events carry the attempt span (``event.span``, set by the
executor while the span is current); when it was sampled, the attempt counter
and the duration histogram get ``{trace_id, span_id}``.

Worst-case series, with Q queues, T tasks and E error types (≤ 20 per pair):
duration Q·T·3·(len(buckets)+3) — 10 queues x 50 tasks x 3 outcomes x 17 ≈ 25,500;
queue wait Q·T·17 ≈ 8,500; attempts Q·T·4 = 2,000; errors Q·T·21 = 10,500.
With ``task_label=False`` the histograms drop ``T``: 510 and 170 series.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from taskward.core import __version__
from taskward.core.events import (
    Event,
    JobCancelled,
    JobCompleted,
    JobDiscarded,
    JobFailed,
    JobInserted,
    JobRateLimited,
    JobRescued,
    JobRetryScheduled,
    JobStarted,
    MaintenanceRan,
    QueueClaimed,
    WorkerStarted,
    WorkerStopped,
)
from taskward.core.instrumentation.config import MetricsConfig
from taskward.core.instrumentation.labels import LabelPolicy
from taskward.core.outcomes import Outcome, SpanRef
from taskward.core.worker.context import AttemptContext
from taskward.core.worker.executor import CallNext

if TYPE_CHECKING:
    from taskward.core.app import Taskward

ATTEMPT_OUTCOMES = ("completed", "retryable", "discarded", "cancelled")
CLAIM_RESULTS = ("jobs", "empty", "error")


class EventMetrics:
    """The per-process metrics of OBSERVABILITY.md (a), on one registry."""

    def __init__(self, app: Taskward, registry: CollectorRegistry, config: MetricsConfig) -> None:
        self.app = app
        self.config = config
        self.labels = LabelPolicy(app.tasks, config.max_error_types)
        hist = ("queue", "task") if config.task_label else ("queue",)
        r = registry
        self.inserted = Counter(
            "taskward_jobs_inserted", "Jobs inserted.", ("queue", "task"), registry=r
        )
        self.attempts = Counter(
            "taskward_job_attempts",
            "Attempts ended, by outcome.",
            ("queue", "task", "outcome"),
            registry=r,
        )
        self.errors = Counter(
            "taskward_job_errors",
            "Failed attempts by exception type.",
            ("queue", "task", "error_type"),
            registry=r,
        )
        self.duration = Histogram(
            "taskward_job_duration_seconds",
            "Execution time of an attempt.",
            (*hist, "outcome"),
            buckets=config.duration_buckets,
            registry=r,
        )
        self.queue_wait = Histogram(
            "taskward_job_queue_wait_seconds",
            "Time from runnable to started.",
            hist,
            buckets=config.wait_buckets,
            registry=r,
        )
        self.rescued = Counter(
            "taskward_jobs_rescued", "Jobs taken back from dead workers.", ("queue",), registry=r
        )
        self.rate_limited = Counter(
            "taskward_job_rate_limited",
            "Jobs held back by rate or concurrency limits.",
            ("queue", "task"),
            registry=r,
        )
        self.claim_duration = Histogram(
            "taskward_claim_duration_seconds",
            "Latency of one claim round trip.",
            ("queue",),
            buckets=config.fast_buckets,
            registry=r,
        )
        self.claims = Counter(
            "taskward_claims", "Claim round trips by result.", ("queue", "result"), registry=r
        )
        self.executing = Gauge(
            "taskward_worker_jobs_executing",
            "Attempts in flight in this process.",
            ("queue",),
            registry=r,
        )
        self.limit = Gauge(
            "taskward_worker_concurrency_limit",
            "Concurrency slots in this process.",
            ("queue",),
            registry=r,
        )
        self.maintenance = Gauge(
            "taskward_maintenance_last_success_timestamp_seconds",
            "Last successful maintenance run (rescue here; archive, purge, backup elsewhere).",
            ("kind",),
            registry=r,
        )
        self.log_records = Counter(
            "taskward_execution_log_records",
            "Captured execution log records.",
            ("queue", "outcome"),
            registry=r,
        )
        Gauge(
            "taskward_build_info",
            "Versions in the fleet.",
            ("version", "python_version", "dialect"),
            registry=r,
        ).labels(__version__, platform.python_version(), app.store.dialect).set(1)
        self._worker_queues: dict[str, dict[str, int]] = {}
        self._children: dict[tuple[Any, ...], Any] = {}
        self._dispatch: dict[type[Event], Callable[[Any], None]] = {
            JobInserted: self._inserted,
            JobStarted: self._started,
            JobCompleted: self._finished,
            JobFailed: self._finished,
            JobRetryScheduled: self._finished,
            JobDiscarded: self._finished,
            JobCancelled: self._finished,
            JobRescued: lambda e: self._child(self.rescued, e.job.queue).inc(),
            JobRateLimited: self._rate_limited,
            QueueClaimed: self._claimed,
            WorkerStarted: self._worker_started,
            WorkerStopped: self._worker_stopped,
            MaintenanceRan: self._maintenance_ran,
        }
        self.zero_fill()

    @property
    def kinds(self) -> tuple[type[Event], ...]:
        """The event classes this subscriber needs (the bus filters the rest out)."""
        return tuple(self._dispatch)

    def handle(self, event: Event) -> None:
        handler = self._dispatch.get(type(event))
        if handler is not None:
            handler(event)

    def zero_fill(self) -> None:
        """Create every known series at 0, so alerts see 0 rather than nothing."""
        for name, task in list(self.app.tasks.items()):
            queue = task.policy.queue
            self._child(self.inserted, queue, name)
            for outcome in ATTEMPT_OUTCOMES:
                self._child(self.attempts, queue, name, outcome)

    def local_workers(self) -> set[str]:
        """Ids of the workers running in this process (from their start/stop events)."""
        return set(self._worker_queues)

    def count_log_records(self, queue: str, outcome: str, count: int) -> None:
        if count:
            self._child(self.log_records, queue, outcome).inc(count)

    async def track_executing(self, ctx: AttemptContext, call_next: CallNext) -> Outcome:
        """Middleware: the in-flight gauge, exact because it wraps the attempt."""
        gauge = self._child(self.executing, ctx.job.queue)
        gauge.inc()
        try:
            return await call_next()
        finally:
            gauge.dec()

    # -- event handlers (subscriber thread) ------------------------------------
    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def _hist_labels(self, queue: str, task: str) -> tuple[str, ...]:
        return (queue, task) if self.config.task_label else (queue,)

    def _inserted(self, event: JobInserted) -> None:
        job = event.job
        self._child(self.inserted, job.queue, self.labels.task(job.task)).inc()

    def _started(self, event: JobStarted) -> None:
        job = event.job
        labels = self._hist_labels(job.queue, self.labels.task(job.task))
        self._child(self.queue_wait, *labels).observe(event.queue_wait)

    def _finished(self, event: Any) -> None:
        if event.duration is None:  # cancelled before it ever ran: not an attempt
            return
        job = event.job
        task = self.labels.task(job.task)
        outcome, timing = _OUTCOMES[type(event)]
        exemplar = _exemplar(event.span)
        self._child(self.attempts, job.queue, task, outcome).inc(1, exemplar)
        hist = self._child(self.duration, *self._hist_labels(job.queue, task), timing)
        hist.observe(event.duration, exemplar)
        error = getattr(event, "error", None)
        if error is not None:
            label = self.labels.error_type(job.queue, task, error.type)
            self._child(self.errors, job.queue, task, label).inc()

    def _rate_limited(self, event: JobRateLimited) -> None:
        job = event.job
        self._child(self.rate_limited, job.queue, self.labels.task(job.task)).inc()

    def _claimed(self, event: QueueClaimed) -> None:
        self._child(self.claim_duration, event.queue).observe(event.duration)
        result = "error" if event.error else ("jobs" if event.count else "empty")
        self._child(self.claims, event.queue, result).inc()

    def _worker_started(self, event: WorkerStarted) -> None:
        self._worker_queues[event.worker_id] = dict(event.queues)
        for queue, limit in event.queues.items():
            self._child(self.limit, queue).inc(limit)
            self._child(self.executing, queue)
            for result in CLAIM_RESULTS:
                self._child(self.claims, queue, result)
        self.zero_fill()

    def _maintenance_ran(self, event: MaintenanceRan) -> None:
        if event.kind == "rescue" and event.error is None:
            self._child(self.maintenance, "rescue").set(event.at.timestamp())

    def _worker_stopped(self, event: WorkerStopped) -> None:
        for queue, limit in self._worker_queues.pop(event.worker_id, {}).items():
            self._child(self.limit, queue).dec(limit)


_OUTCOMES: dict[type[Event], tuple[str, str]] = {
    JobCompleted: ("completed", "completed"),
    JobFailed: ("retryable", "failed"),
    JobRetryScheduled: ("retryable", "failed"),
    JobDiscarded: ("discarded", "failed"),
    JobCancelled: ("cancelled", "cancelled"),
}


def _exemplar(span: SpanRef | None) -> dict[str, str] | None:
    if span is None or not span.sampled:
        return None
    return {"trace_id": span.trace_id, "span_id": span.span_id}
