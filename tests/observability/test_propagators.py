"""Links from an attempt (and a rescue) to its enqueue go through the configured
OpenTelemetry propagator: B3 works as W3C does (issue 11, item 6)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import baggage, propagate, trace
from opentelemetry import context as otel_context
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagators.b3 import B3MultiFormat, B3SingleFormat
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from taskward.core import Constant, JobState, Taskward, Worker, current_attempt
from taskward.core.instrumentation import Instrumentation
from taskward.core.instrumentation.propagation import enqueue_link
from taskward.core.testing import drain
from tests.core.worker_support import wait_for_states, with_worker
from tests.observability.test_tracing import of_kind


@pytest.fixture
def propagator(request: pytest.FixtureRequest) -> Iterator[TextMapPropagator]:
    """The process's global propagator for one test (``propagate.set_global_textmap``)."""
    before = propagate.get_global_textmap()
    chosen: TextMapPropagator = request.param
    propagate.set_global_textmap(chosen)
    yield chosen
    propagate.set_global_textmap(before)


TRACE, SPAN = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
CARRIERS = [
    {"traceparent": f"00-{TRACE}-{SPAN}-01"},
    {"traceparent": f"00-{TRACE}-{SPAN}-00"},
    {"traceparent": f"00-{TRACE}-{SPAN}-01", "tracestate": "vendor=a,other=b"},
    {"traceparent": f"01-{TRACE}-{SPAN}-01-future-fields"},
    {"traceparent": f"ff-{TRACE}-{SPAN}-01"},
    {"traceparent": f"00-{'0' * 32}-{SPAN}-01"},
    {"traceparent": "garbage"},
    {"traceparent": 42, "tracestate": ["not", "text"]},  # meta is the user's JSON too
    {"x-b3-traceid": TRACE, "x-b3-spanid": SPAN, "x-b3-sampled": "1"},
    {},
]


@pytest.mark.parametrize("meta", CARRIERS)
def test_the_link_is_what_the_default_propagator_extracts(meta: dict[str, object]) -> None:
    carrier = {k: v for k, v in meta.items() if isinstance(v, str)}
    extracted = trace.get_current_span(TraceContextTextMapPropagator().extract(carrier))
    expected = extracted.get_span_context()
    assert enqueue_link(meta) == (expected if expected.is_valid else None)


B3 = [
    pytest.param(B3MultiFormat(), id="b3multi"),
    pytest.param(CompositePropagator([B3SingleFormat(), W3CBaggagePropagator()]), id="b3+baggage"),
]


@pytest.mark.parametrize("propagator", B3, indirect=True)
def test_attempts_link_to_the_enqueue_through_b3(
    app: Taskward,
    inst: Instrumentation,
    spans: InMemorySpanExporter,
    propagator: TextMapPropagator,
) -> None:
    carried: list[str | None] = []

    @app.task(backoff=Constant(0), max_attempts=2)
    def flaky() -> None:
        carried.append(str(baggage.get_baggage("tenant")))
        if current_attempt().job.attempt == 1:
            raise ConnectionError("gateway down")

    token = otel_context.attach(baggage.set_baggage("tenant", "acme"))
    try:
        job = flaky.enqueue()
    finally:
        otel_context.detach(token)
    assert "traceparent" not in app.get_job(job.id).meta  # only what B3 writes
    drain(app)
    (producer,) = of_kind(spans, SpanKind.PRODUCER)
    first, second = of_kind(spans, SpanKind.CONSUMER)
    assert [link.context.span_id for link in first.links] == [producer.context.span_id]
    assert [link.context.trace_id for link in first.links] == [producer.context.trace_id]
    assert [link.context.span_id for link in second.links] == [
        producer.context.span_id,
        first.context.span_id,
    ]
    if "baggage" in propagator.fields:
        assert carried == ["acme", "acme"]


@pytest.mark.parametrize("propagator", B3[:1], indirect=True)
def test_a_rescue_links_to_the_enqueue_through_b3(
    app: Taskward,
    inst: Instrumentation,
    spans: InMemorySpanExporter,
    propagator: TextMapPropagator,
) -> None:
    @app.task(queue="reports")
    def report() -> None: ...

    orphan = report.enqueue()
    with app.connect() as conn:  # a worker that died mid-attempt, never seen again
        app.store.claim(conn, "reports", "dead-worker", 1, app.clock.now())

    async def body(worker: Worker) -> None:
        await wait_for_states(app, [orphan.id], [JobState.COMPLETED], within=30)

    with_worker(app, body, {"reports": 1}, heartbeat_interval=0.05)
    inst.flush()
    (rescue,) = [s for s in of_kind(spans, SpanKind.INTERNAL) if s.name == "rescue reports"]
    (producer,) = of_kind(spans, SpanKind.PRODUCER)
    assert [link.context.span_id for link in rescue.links] == [producer.context.span_id]
