"""Event metrics: counters, histograms and gauges fed by one subscriber on the event spine.

Nothing here is called from worker code: every number comes from a lifecycle
event delivered on the subscriber's own thread, so a slow or broken registry
can never slow a job. The series live in Taskward's own families (see
``families``): each event is recorded in plain Python under one lock, which
a scrape takes too, so it never sees half an event.

Attempt outcomes: completed (``JobCompleted``), retryable (``JobFailed``,
``JobRetryScheduled``), discarded (``JobDiscarded``), cancelled (``JobCancelled``
of a job that ran). Snoozes do not use up an attempt and are not counted;
rescued attempts are counted by ``taskward_jobs_rescued_total``.

``taskward_worker_jobs_executing`` is no middleware around each attempt but the
jobs this process has started (``JobStarted``) and not yet settled (a finish
event, ``JobSnoozed``, ``JobReleased``, ``JobRescued``), counted when scraped:
the jobs the database holds ``executing`` for this process, as of the events
handled so far (the subscriber lingers 10 ms between wake-ups).

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
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from taskward.core import __version__
from taskward.core.events import (
    Event,
    JobCancelled,
    JobCompleted,
    JobDiscarded,
    JobEvent,
    JobFailed,
    JobInserted,
    JobRateLimited,
    JobReleased,
    JobRescued,
    JobRetryScheduled,
    JobSnoozed,
    JobStarted,
    MaintenanceRan,
    QueueClaimed,
    RetentionPruned,
    WorkerStarted,
    WorkerStopped,
)
from taskward.core.instrumentation.config import MetricsConfig
from taskward.core.instrumentation.families import (
    CounterFamily,
    GaugeFamily,
    HistogramFamily,
    Labels,
)
from taskward.core.instrumentation.labels import LabelPolicy
from taskward.core.instrumentation.series import WITH_ERROR, Series
from taskward.core.instrumentation.upkeep import UpkeepFamilies
from taskward.core.job import Job

if TYPE_CHECKING:
    from taskward.core.app import Taskward

ATTEMPT_OUTCOMES = ("completed", "retryable", "discarded", "cancelled")
CLAIM_RESULTS = ("jobs", "empty", "error")


class EventMetrics(Collector):
    """The per-process metrics of OBSERVABILITY.md (a), registered on ``registry``."""

    def __init__(self, app: Taskward, registry: CollectorRegistry, config: MetricsConfig) -> None:
        self.app = app
        self.config = config
        self.labels = LabelPolicy(app.tasks, config.max_error_types)
        hist = ("queue", "task") if config.task_label else ("queue",)
        self.inserted = CounterFamily("taskward_jobs_inserted", "Jobs inserted.", ("queue", "task"))
        self.attempts = CounterFamily(
            "taskward_job_attempts", "Attempts ended, by outcome.", ("queue", "task", "outcome")
        )
        self.errors = CounterFamily(
            "taskward_job_errors",
            "Failed attempts by exception type.",
            ("queue", "task", "error_type"),
        )
        self.duration = HistogramFamily(
            "taskward_job_duration_seconds",
            "Execution time of an attempt.",
            (*hist, "outcome"),
            config.duration_buckets,
        )
        self.queue_wait = HistogramFamily(
            "taskward_job_queue_wait_seconds",
            "Time from runnable to started.",
            hist,
            config.wait_buckets,
        )
        self.rescued = CounterFamily(
            "taskward_jobs_rescued", "Jobs taken back from dead workers.", ("queue",)
        )
        self.rate_limited = CounterFamily(
            "taskward_job_rate_limited",
            "Jobs held back by rate or concurrency limits.",
            ("queue", "task"),
        )
        self.claim_duration = HistogramFamily(
            "taskward_claim_duration_seconds",
            "Latency of one claim round trip.",
            ("queue",),
            config.fast_buckets,
        )
        self.claims = CounterFamily(
            "taskward_claims", "Claim round trips by result.", ("queue", "result")
        )
        self.executing = GaugeFamily(
            "taskward_worker_jobs_executing",
            "Jobs in flight in this process (started, not yet settled).",
            ("queue",),
        )
        self.limit = GaugeFamily(
            "taskward_worker_concurrency_limit", "Concurrency slots in this process.", ("queue",)
        )
        #: Maintenance runs, last successes and what retention deleted.
        self.upkeep = UpkeepFamilies()
        self.log_records = CounterFamily(
            "taskward_execution_log_records",
            "Captured execution log records.",
            ("queue", "outcome"),
        )
        build = GaugeFamily(
            "taskward_build_info",
            "Versions in the fleet.",
            ("version", "python_version", "dialect"),
        )
        build.set((__version__, platform.python_version(), app.store.dialect), 1.0)
        self._families = (
            *(self.inserted, self.attempts, self.errors, self.duration, self.queue_wait),
            *(self.rescued, self.rate_limited, self.claim_duration, self.claims),
            *(self.executing, self.limit, self.log_records, build, *self.upkeep.families),
        )
        #: Held around every update and every copy taken for a scrape.
        self._lock = threading.Lock()
        self._worker_queues: dict[str, dict[str, int]] = {}
        #: Jobs started here and not yet settled, by ``id.int`` (an int hashes faster than
        #: a UUID): ``taskward_worker_jobs_executing``.
        self._in_flight: dict[int, Job] = {}
        self._resolved: dict[Labels, Series] = {}
        #: Most frequent first: the bus filters each batch by these kinds, in this order.
        self._dispatch: dict[type[Event], Callable[[Any], None]] = {
            JobStarted: self._started,
            JobCompleted: self._finished,
            QueueClaimed: self._claimed,
            JobInserted: self._inserted,
            JobFailed: self._finished,
            JobRetryScheduled: self._finished,
            JobDiscarded: self._finished,
            JobCancelled: self._finished,
            JobSnoozed: self._settled,
            JobReleased: self._settled,
            JobRescued: self._rescued,
            JobRateLimited: self._rate_limited,
            WorkerStarted: self._worker_started,
            WorkerStopped: self._worker_stopped,
            MaintenanceRan: self.upkeep.ran,
            RetentionPruned: self.upkeep.pruned,
        }
        self._zero_fill()
        registry.register(self)

    @property
    def kinds(self) -> tuple[type[Event], ...]:
        """The event classes this subscriber needs (the bus filters the rest out)."""
        return tuple(self._dispatch)

    def handle(self, event: Event) -> None:
        handler = self._dispatch.get(type(event))
        if handler is not None:
            self._lock.acquire()  # not ``with``: this is per event, and half the price
            try:
                handler(event)
            finally:
                self._lock.release()

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            self._count_executing()
            copies = [family.copy() for family in self._families]
        return (family.metric() for family in copies)

    def describe(self) -> Iterator[Metric]:
        return (family.describe() for family in self._families)

    def local_workers(self) -> set[str]:
        """Ids of the workers running in this process (from their start/stop events)."""
        with self._lock:
            return set(self._worker_queues)

    def count_log_records(self, queue: str, outcome: str, count: int) -> None:
        """Called by the log writer's thread with the records of one attempt."""
        if count:
            with self._lock:
                self.log_records.inc((queue, outcome), count)

    def _count_executing(self) -> None:
        """Set the in-flight gauge from the jobs started and not yet settled."""
        values = self.executing.values
        for queue in values:
            values[queue] = 0.0
        for job in self._in_flight.values():
            self.executing.inc((job.queue,))

    def _zero_fill(self) -> None:
        """Create every known series at 0, so alerts see 0 rather than nothing."""
        for name, task in list(self.app.tasks.items()):
            queue = task.policy.queue
            self.inserted.zero((queue, name))
            for outcome in ATTEMPT_OUTCOMES:
                self.attempts.zero((queue, name, outcome))

    def _series(self, job: Job) -> Series:
        """The label values of ``job``'s series, resolved once per (queue, task label)."""
        found = self._resolved.get((job.queue, job.task))
        if found is None:
            key = (job.queue, self.labels.task(job.task))
            found = self._resolved.get(key) or Series.of(*key, task_label=self.config.task_label)
            self._resolved[key] = found  # by its label: unknown task names all share one
        return found

    # -- event handlers (subscriber thread, under the lock) --------------------------
    def _inserted(self, event: JobInserted) -> None:
        self.inserted.inc(self._series(event.job).pair)

    def _started(self, event: JobStarted) -> None:
        job = event.job
        self.queue_wait.observe(self._series(job).wait, event.queue_wait)
        self._in_flight[job.id.int] = job

    def _settled(self, event: JobEvent) -> None:
        """The attempt of ``event.job`` no longer holds a slot here (if it ever did)."""
        self._in_flight.pop(event.job.id.int, None)

    def _finished(self, event: Any) -> None:
        job = event.job
        self._in_flight.pop(job.id.int, None)
        if event.duration is None:  # cancelled before it ever ran: not an attempt
            return
        series, kind, span = self._series(job), type(event), event.span
        exemplar = span if span is not None and span.sampled else None
        self.attempts.inc(series.attempts[kind], 1.0, exemplar)
        self.duration.observe(series.duration[kind], event.duration, exemplar)
        if kind in WITH_ERROR and event.error is not None:
            queue, task = series.pair
            label = self.labels.error_type(queue, task, event.error.type)
            self.errors.inc((queue, task, label))

    def _rescued(self, event: JobRescued) -> None:
        self._settled(event)
        self.rescued.inc((event.job.queue,))

    def _rate_limited(self, event: JobRateLimited) -> None:
        self.rate_limited.inc(self._series(event.job).pair)

    def _claimed(self, event: QueueClaimed) -> None:
        self.claim_duration.observe((event.queue,), event.duration)
        result = "error" if event.error else ("jobs" if event.count else "empty")
        self.claims.inc((event.queue, result))

    def _worker_started(self, event: WorkerStarted) -> None:
        self._worker_queues[event.worker_id] = dict(event.queues)
        for queue, limit in event.queues.items():
            self.limit.inc((queue,), limit)
            self.executing.zero((queue,))
            for result in CLAIM_RESULTS:
                self.claims.zero((queue, result))
        self._zero_fill()

    def _worker_stopped(self, event: WorkerStopped) -> None:
        for queue, limit in self._worker_queues.pop(event.worker_id, {}).items():
            self.limit.inc((queue,), -limit)
        # Its settled jobs are gone already; any left lost their events to a full bus.
        for job_id, job in list(self._in_flight.items()):
            if job.attempted_by == event.worker_id:
                del self._in_flight[job_id]
