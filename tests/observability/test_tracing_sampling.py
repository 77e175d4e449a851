"""Attempts the sampler drops: current (so the decision propagates), cheap, never exported."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, TraceState
from opentelemetry.util.types import Attributes

from taskward.core import Taskward
from taskward.core.instrumentation import instrument
from taskward.core.testing import drain


class DropAttempts(Sampler):
    """Records producer spans, drops consumer spans; remembers what it was shown."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if kind is not SpanKind.CONSUMER:
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)
        self.seen.append(dict(attributes or {}))
        return SamplingResult(Decision.DROP)

    def get_description(self) -> str:
        return "DropAttempts"


def test_a_dropped_attempt_span_is_current_and_on_the_error_entry(database_url: str) -> None:
    app = Taskward(database_url)
    sampler, spans = DropAttempts(), InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler)
    provider.add_span_processor(SimpleSpanProcessor(spans))
    inst = instrument(app, tracer_provider=provider)
    seen: list[trace.SpanContext] = []

    @app.task(max_attempts=1)
    def fails() -> None:
        seen.append(trace.get_current_span().get_span_context())
        raise ValueError("no")

    try:
        job = fails.enqueue()
        drain(app)
        (current,) = seen
        assert current.is_valid and not current.trace_flags.sampled  # calls out carry "unsampled"
        (error,) = app.get_job(job.id).errors
        assert (error["trace_id"], error["span_id"]) == (
            format(current.trace_id, "032x"),
            format(current.span_id, "016x"),
        )
        assert [s.kind for s in spans.get_finished_spans()] == [SpanKind.PRODUCER]
        (shown,) = sampler.seen  # the sampler decides on the task's attributes
        assert shown["messaging.operation.type"] == "process"
        assert shown["messaging.destination.name"] == "default"
        assert shown["taskward.task.name"] == fails.name
    finally:
        inst.close()
        provider.shutdown()
        app.close()
