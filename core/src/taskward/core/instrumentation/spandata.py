"""What the spans say about a job: attempt attributes, outcomes, propagated context."""

from __future__ import annotations

from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanContext, Status, StatusCode, TraceFlags

from taskward.core.attempt import AttemptContext
from taskward.core.job import Job
from taskward.core.outcomes import Outcome


def attempt_attributes(ctx: AttemptContext) -> dict[str, Any]:
    """The attributes that differ per attempt: built only for a recording span."""
    job = ctx.job
    wait = 0.0
    runnable = job.runnable_at
    if job.attempted_at is not None and runnable is not None:
        wait = max(0.0, (job.attempted_at - runnable).total_seconds())
    attributes: dict[str, Any] = {
        "messaging.message.id": str(job.id),
        "messaging.client.id": ctx.worker_id,
        "taskward.job.attempt": job.attempt,
        "taskward.job.max_attempts": job.max_attempts,
        "taskward.job.priority": job.priority,
        "taskward.job.queue_wait_seconds": wait,
    }
    if job.tags:
        attributes["taskward.job.tags"] = [str(t) for t in job.tags]
    if "correlation_id" in job.meta:
        attributes["messaging.message.conversation_id"] = str(job.meta["correlation_id"])
    return attributes


def set_outcome(span: trace.Span, outcome: Outcome) -> None:
    span.set_attribute("taskward.job.outcome", outcome.kind)
    error = outcome.error
    if error is not None:
        span.set_attribute("error.type", error.type)
        span.add_event(
            "exception",
            {
                "exception.type": error.type,
                "exception.message": error.message,
                "exception.stacktrace": error.traceback,
            },
        )
        span.set_status(Status(StatusCode.ERROR, error.message))
    elif outcome.kind == "discarded":
        span.set_status(Status(StatusCode.ERROR, outcome.reason or "discarded"))


def context_of(span: trace.Span, parent: otel_context.Context) -> tuple[dict[str, str], str | None]:
    """What a row enqueued under ``span`` carries: the propagated headers
    (``traceparent``, ``tracestate``, ``baggage``) and the trace id, if valid."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, trace.set_span_in_context(span, parent))
    context = span.get_span_context()
    return carrier, format(context.trace_id, "032x") if context.is_valid else None


def carrying(job: Job, carried: tuple[dict[str, str], str | None]) -> Job:
    """``job`` with the headers in its meta and the trace id in ``trace_id``."""
    carrier, trace_id = carried
    if not carrier:
        return job
    return job.evolve(meta={**job.meta, **carrier}, trace_id=trace_id or job.trace_id)


def previous_attempt(job: Job) -> SpanContext | None:
    """The span of the attempt before this one, when it failed and was traced."""
    if not job.errors:
        return None
    last = job.errors[-1]
    if last.get("attempt") != job.attempt - 1 or not last.get("span_id"):
        return None
    try:
        return SpanContext(int(last["trace_id"], 16), int(last["span_id"], 16), True, TraceFlags(1))
    except (TypeError, ValueError):
        return None
