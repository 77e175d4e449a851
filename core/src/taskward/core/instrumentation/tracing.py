"""Spans of OBSERVABILITY.md (b) through the OpenTelemetry API only.

* ``send {queue}`` (PRODUCER) per enqueue call, from an enqueue hook: one job,
  one span; a bulk enqueue, one span for the batch (``enqueue_many``, with its
  message count), optionally with a ``create {queue}`` span per job. The hook
  stamps the configured propagator's headers (W3C ``traceparent`` by default)
  into ``job.meta`` and the trace id into ``job.trace_id``
  *before* the insert, so both go into the same INSERT (and the caller's
  transaction); jobs are findable with ``app.list_jobs(trace_id=...)``.
* ``process {queue}`` (CONSUMER), one per attempt, from a middleware: linked to
  the enqueue span (default) or its child (``relationship="child"``), plus a link
  to the previous attempt's span when that one failed. The span is current
  inside the handler (sync handlers too: the executor copies the context into
  the thread), so user spans nest under it.
* ``rescue {queue}`` and ``stage`` (INTERNAL), from the maintenance runs' reports
  on the bus, for runs that moved jobs (rescue: linked to their enqueue contexts).

With no SDK installed every span is non-recording and nothing is injected
unless an upstream context is active, which then passes through unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextvars import Token
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from taskward.core import __version__
from taskward.core.attempt import AttemptContext
from taskward.core.events import Event, MaintenanceRan
from taskward.core.instrumentation.config import TracingConfig
from taskward.core.instrumentation.guard import Guard
from taskward.core.instrumentation.propagation import enqueue_context, enqueue_link
from taskward.core.instrumentation.spandata import (
    attempt_attributes,
    carrying,
    context_of,
    previous_attempt,
    set_outcome,
)
from taskward.core.job import Job
from taskward.core.outcomes import Outcome
from taskward.core.states import JobState
from taskward.core.worker.executor import CallNext

if TYPE_CHECKING:
    from taskward.core.app import Taskward

TRACER_NAME = "taskward.core"
SCHEMA_URL = "https://opentelemetry.io/schemas/1.37.0"
SYSTEM = "taskward"
Insert = Callable[[Sequence[Job]], list[Job]]
MAINTENANCE_SPANS = ("stage", "rescue")
NEW_TRACE = trace.set_span_in_context(trace.INVALID_SPAN, otel_context.Context())


class Tracing:
    """The producer hook and the consumer middleware of one app."""

    def __init__(
        self,
        app: Taskward,
        config: TracingConfig,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        self.tracer = trace.get_tracer(TRACER_NAME, __version__, tracer_provider, SCHEMA_URL)
        self.child = config.relationship == "child"
        self.create_spans = config.create_spans
        self._provider = tracer_provider
        url = app.engine.url
        self._server = url.host if url.get_backend_name() == "postgresql" else None
        self._producer_guard = Guard("tracing of an enqueue")
        self._consumer_guard = Guard("tracing of an attempt")
        #: Span attributes per (queue, task name, handler): bounded by the task registry.
        self._by_task: dict[tuple[str, str, Callable[..., Any]], Mapping[str, Any]] = {}

    # -- producer ----------------------------------------------------------------
    def enqueue_hook(self, jobs: Sequence[Job], insert: Insert) -> list[Job]:
        """Enqueue hook: the PRODUCER span(s), their context stored in the job rows.

        One job: a ``send {queue}`` span of its own. Several (``enqueue_many``): one
        ``send`` span for the batch whose context every row carries, and with
        ``create_spans`` a ``create {queue}`` span per job, linked from the batch span.
        """
        try:
            spans, traced = self._start_sends(jobs)
        except Exception:
            self._producer_guard.failed()
            return insert(jobs)
        try:
            inserted = insert(traced)
        except BaseException as exc:
            self._end_all(spans, exc)
            raise
        self._end_all(spans, None)
        return inserted

    def _start_sends(self, jobs: Sequence[Job]) -> tuple[list[trace.Span], list[Job]]:
        parent = otel_context.get_current()
        if len(jobs) == 1:
            (job,) = jobs
            span = self._start(f"send {job.queue}", parent, self._message_attributes(job, "send"))
            return [span], [carrying(job, context_of(span, parent))]
        creates: list[trace.Span] = []
        if self.create_spans:
            creates = [
                self._start(f"create {j.queue}", parent, self._message_attributes(j, "create"))
                for j in jobs
            ]
        queues = {job.queue for job in jobs}
        attributes = self._common_attributes("send", "enqueue_many")
        attributes["messaging.batch.message_count"] = len(jobs)
        name = "send"
        if len(queues) == 1:
            (queue,) = queues
            attributes["messaging.destination.name"] = queue
            name = f"send {queue}"
        links = [Link(c.get_span_context()) for c in creates] or None
        batch = self.tracer.start_span(name, parent, SpanKind.PRODUCER, attributes, links)
        if creates:
            contexts = [context_of(span, parent) for span in creates]
        else:  # every row carries the batch span: its context is rendered once
            contexts = [context_of(batch, parent)] * len(jobs)
        traced = [carrying(job, c) for job, c in zip(jobs, contexts, strict=True)]
        return [*creates, batch], traced

    def _start(
        self, name: str, parent: otel_context.Context, attributes: dict[str, Any]
    ) -> trace.Span:
        return self.tracer.start_span(name, parent, SpanKind.PRODUCER, attributes)

    def _common_attributes(self, kind: str, operation: str) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            "messaging.system": SYSTEM,
            "messaging.operation.type": kind,
            "messaging.operation.name": operation,
        }
        if self._server:
            attributes["server.address"] = self._server
        return attributes

    def _message_attributes(self, job: Job, kind: str) -> dict[str, Any]:
        """One job's producer span: ``send`` (a single enqueue) or ``create`` (in a batch)."""
        attributes = self._common_attributes(kind, "enqueue" if kind == "send" else "create")
        attributes.update(
            {
                "messaging.destination.name": job.queue,
                "messaging.message.id": str(job.id),
                "taskward.task.name": job.task,
                "taskward.job.priority": job.priority,
                "taskward.job.max_attempts": job.max_attempts,
            }
        )
        if job.state is JobState.SCHEDULED and job.scheduled_at is not None:
            attributes["taskward.job.scheduled_at"] = job.scheduled_at.isoformat()
        if "correlation_id" in job.meta:
            attributes["messaging.message.conversation_id"] = str(job.meta["correlation_id"])
        return attributes

    def _end_all(self, spans: list[trace.Span], exc: BaseException | None) -> None:
        try:
            for span in spans:
                if exc is not None:
                    span.record_exception(exc)
                    span.set_status(Status(StatusCode.ERROR, str(exc)))
                span.end()
        except Exception:
            self._producer_guard.failed()

    # -- consumer ----------------------------------------------------------------
    async def middleware(self, ctx: AttemptContext, call_next: CallNext) -> Outcome:
        """Middleware: the attempt's CONSUMER span, current while the handler runs."""
        if not self.child and self._without_sdk() and "baggage" not in ctx.job.meta:
            return await call_next()  # the span would be an invalid root: nothing to carry
        try:
            span, token = self._start_process(ctx)
        except Exception:
            self._consumer_guard.failed()
            return await call_next()
        try:
            outcome = await call_next()
        except BaseException:  # shutdown hands the job back: the attempt did not count
            self._end_process(span, None)
            raise
        finally:
            if token is not None:
                otel_context.detach(token)
        self._end_process(span, outcome)
        return outcome

    def _without_sdk(self) -> bool:
        """True while no SDK records spans (the API's no-op or not-yet-set provider)."""
        provider = self._provider or trace.get_tracer_provider()
        return isinstance(provider, trace.NoOpTracerProvider | trace.ProxyTracerProvider)

    def _start_process(
        self, ctx: AttemptContext
    ) -> tuple[trace.Span, Token[otel_context.Context] | None]:
        """Start the attempt's span and make it current (the token to detach, if any).

        The sampler sees the attributes that are the same for every attempt of a task
        (semconv's sampling-relevant ones among them); the per-attempt ones are built
        only for a recording span, as is the enqueue link (read from the job's meta
        by the configured propagator). The enqueue context is extracted only for child mode (the
        parent) or baggage to carry into the handler. A span that neither records nor
        carries anything (no SDK) is not even made current: it costs almost nothing.
        """
        job = ctx.job
        enqueued = enqueue_context(job.meta) if self.child or "baggage" in job.meta else None
        previous = previous_attempt(job)
        span = self.tracer.start_span(
            f"process {job.queue}",
            enqueued if self.child else NEW_TRACE,
            SpanKind.CONSUMER,
            self.task_attributes(ctx),
            [Link(previous)] if self.child and previous is not None else None,
        )
        if span.is_recording():
            span.set_attributes(attempt_attributes(ctx))
            if not self.child:
                for link in (enqueue_link(job.meta, enqueued), previous):
                    if link is not None:
                        span.add_link(link)
        if enqueued is None and not span.get_span_context().is_valid:
            return span, None
        carried = enqueued if enqueued is not None else otel_context.get_current()
        return span, otel_context.attach(trace.set_span_in_context(span, carried))

    def task_attributes(self, ctx: AttemptContext) -> Mapping[str, Any]:
        """The attributes shared by every attempt of a (queue, task), built once each
        (read-only: every span of the task, and its sampler, is handed the same one)."""
        job, fn = ctx.job, ctx.task.fn
        key = (job.queue, job.task, fn)
        attributes = self._by_task.get(key)
        if attributes is None:
            attributes = self._by_task[key] = MappingProxyType(
                {
                    "messaging.system": SYSTEM,
                    "messaging.operation.type": "process",
                    "messaging.operation.name": "process",
                    "messaging.destination.name": job.queue,
                    "taskward.task.name": job.task,
                    "code.function.name": f"{fn.__module__}.{fn.__qualname__}",
                }
            )
        return attributes

    # -- maintenance -------------------------------------------------------------
    def maintenance(self, event: Event) -> None:
        """Bus subscriber: INTERNAL spans for stage and rescue runs that moved jobs or failed.

        Made after the run from its report, with the run's own start and end times.
        """
        if not isinstance(event, MaintenanceRan) or event.kind not in MAINTENANCE_SPANS:
            return
        if not (event.jobs or event.error):
            return
        end = int(event.at.timestamp() * 1e9)
        start = end - int(event.duration * 1e9)
        groups: dict[str, list[Job]] = {} if event.jobs else {"": []}
        for job in event.jobs:
            groups.setdefault(job.queue if event.kind == "rescue" else "", []).append(job)
        for queue, jobs in groups.items():
            contexts = (enqueue_link(job.meta) for job in jobs)
            links = [Link(c) for c in contexts if c is not None]
            span = self.tracer.start_span(
                f"{event.kind} {queue}".strip(),
                kind=SpanKind.INTERNAL,
                attributes={
                    "messaging.system": SYSTEM,
                    "messaging.batch.message_count": len(jobs),
                    "messaging.client.id": event.worker_id,
                },
                links=links,
                start_time=start,
            )
            if event.error:
                span.set_status(Status(StatusCode.ERROR, event.error))
            span.end(end)

    def _end_process(self, span: trace.Span, outcome: Outcome | None) -> None:
        try:
            if outcome is None:
                span.set_attribute("taskward.job.outcome", "released")
            else:
                set_outcome(span, outcome)
            span.end()
        except Exception:
            self._consumer_guard.failed()
