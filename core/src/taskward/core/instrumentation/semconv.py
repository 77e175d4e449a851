"""The opt-in OpenTelemetry mirror of the event metrics, in messaging semantic conventions.

Prometheus names stay the contract (OBSERVABILITY.md rule 1). A site that ships
metrics over OTLP may also want the semconv instruments; they are recorded through
``opentelemetry-api`` (a no-op until the SDK's ``MeterProvider`` is configured) by
their own bus subscriber from the same lifecycle events, so they count exactly
what the Prometheus counters count. Off by default: on, every number is recorded
twice.

===========================================  ==================================================
``messaging.client.sent.messages``           ``taskward_jobs_inserted_total``
``messaging.client.consumed.messages``       ``taskward_job_attempts_total`` (at the attempt's end)
``messaging.process.duration``               ``taskward_job_duration_seconds``
``messaging.client.operation.duration``      ``taskward_claim_duration_seconds`` (receive)
===========================================  ==================================================

Attributes: ``messaging.system``, ``messaging.operation.type`` and ``.name``,
``messaging.destination.name`` and, for failed attempts and claims, ``error.type``
(capped per queue and task as the Prometheus label is). No task name: semconv
keeps per-message identifiers off metrics.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.metrics import MeterProvider, get_meter_provider

from taskward.core import __version__
from taskward.core.events import (
    Event,
    JobCancelled,
    JobCompleted,
    JobDiscarded,
    JobFailed,
    JobInserted,
    JobRetryScheduled,
    QueueClaimed,
)
from taskward.core.instrumentation.config import MetricsConfig
from taskward.core.instrumentation.labels import LabelPolicy
from taskward.core.instrumentation.tracing import SCHEMA_URL, SYSTEM

_FINISHED = (JobCompleted, JobFailed, JobRetryScheduled, JobDiscarded, JobCancelled)


class SemconvMetrics:
    """Bus subscriber recording the semconv messaging instruments."""

    kinds = (JobInserted, QueueClaimed, *_FINISHED)

    def __init__(
        self, config: MetricsConfig, labels: LabelPolicy, provider: MeterProvider | None = None
    ) -> None:
        meter = (provider or get_meter_provider()).get_meter(
            "taskward.core", __version__, schema_url=SCHEMA_URL
        )
        self._labels = labels
        self.sent = meter.create_counter(
            "messaging.client.sent.messages", "{message}", "Jobs enqueued."
        )
        self.consumed = meter.create_counter(
            "messaging.client.consumed.messages", "{message}", "Attempts that ended."
        )
        self.process_duration = meter.create_histogram(
            "messaging.process.duration",
            "s",
            "Duration of one attempt of a job.",
            explicit_bucket_boundaries_advisory=config.duration_buckets,
        )
        self.operation_duration = meter.create_histogram(
            "messaging.client.operation.duration",
            "s",
            "Duration of a claim (receive) round trip.",
            explicit_bucket_boundaries_advisory=config.fast_buckets,
        )

    def handle(self, event: Event) -> None:
        if isinstance(event, JobInserted):
            self.sent.add(1, _attributes("send", "enqueue", event.job.queue))
        elif isinstance(event, QueueClaimed):
            attributes = _attributes("receive", "claim", event.queue)
            if event.error is not None:
                attributes["error.type"] = event.error
            self.operation_duration.record(event.duration, attributes)
        elif isinstance(event, _FINISHED) and event.duration is not None:
            job = event.job
            attributes = _attributes("process", "process", job.queue)
            error = getattr(event, "error", None)
            if error is not None:
                task = self._labels.task(job.task)
                attributes["error.type"] = self._labels.error_type(job.queue, task, error.type)
            self.consumed.add(1, attributes)
            self.process_duration.record(event.duration, attributes)


def _attributes(kind: str, operation: str, queue: str) -> dict[str, Any]:
    return {
        "messaging.system": SYSTEM,
        "messaging.operation.type": kind,
        "messaging.operation.name": operation,
        "messaging.destination.name": queue,
    }
