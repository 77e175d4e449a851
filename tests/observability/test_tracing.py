"""Spans through the real OpenTelemetry SDK: producer per enqueue, consumer per attempt."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from taskward.core import Constant, Job, JobState, Taskward, Worker, current_attempt
from taskward.core.instrumentation import (
    Instrumentation,
    InstrumentationConfig,
    TracingConfig,
    instrument,
)
from taskward.core.testing import drain
from tests.core.worker_support import wait_for_states, with_worker
from tests.observability.conftest import MakeInst

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def hexid(span: ReadableSpan) -> tuple[str, str]:
    assert span.context is not None
    return format(span.context.trace_id, "032x"), format(span.context.span_id, "016x")


def of_kind(spans: InMemorySpanExporter, kind: SpanKind) -> list[ReadableSpan]:
    return [s for s in spans.get_finished_spans() if s.kind is kind]


def test_one_producer_span_per_single_enqueue(
    app: Taskward, inst: Instrumentation, spans: InMemorySpanExporter
) -> None:
    @app.task(queue="mail", priority=2, max_attempts=4)
    def send(to: str) -> None: ...

    one = send.enqueue("a@example.com")
    later = send.options(in_=60, meta={"correlation_id": "order-7"}).enqueue("d@example.com")
    producers = of_kind(spans, SpanKind.PRODUCER)
    assert len(producers) == 2
    by_id = {s.attributes["messaging.message.id"]: s for s in producers if s.attributes}
    for job in [one, later]:
        span = by_id[str(job.id)]
        trace_id, span_id = hexid(span)
        stored = app.get_job(job.id)
        assert stored.meta["traceparent"].split("-")[1:3] == [trace_id, span_id]
        assert stored.trace_id == trace_id
        assert [j.id for j in app.list_jobs(trace_id=trace_id)] == [job.id]
        assert span.name == "send mail"
        assert span.attributes is not None
        assert {
            k: span.attributes[k]
            for k in (
                "messaging.system",
                "messaging.operation.type",
                "messaging.operation.name",
                "messaging.destination.name",
                "taskward.task.name",
                "taskward.job.priority",
                "taskward.job.max_attempts",
            )
        } == {
            "messaging.system": "taskward",
            "messaging.operation.type": "send",
            "messaging.operation.name": "enqueue",
            "messaging.destination.name": "mail",
            "taskward.task.name": send.name,
            "taskward.job.priority": 2,
            "taskward.job.max_attempts": 4,
        }
    assert by_id[str(later.id)].attributes["messaging.message.conversation_id"] == "order-7"
    assert "taskward.job.scheduled_at" in by_id[str(later.id)].attributes
    assert "taskward.job.scheduled_at" not in by_id[str(one.id)].attributes
    assert producers[0].instrumentation_scope.name == "taskward.core"


def test_a_bulk_enqueue_is_one_send_span_whose_context_every_row_carries(
    app: Taskward, inst: Instrumentation, spans: InMemorySpanExporter
) -> None:
    @app.task(queue="mail")
    def send(to: str) -> None: ...

    @app.task(queue="sms")
    def text(to: str) -> None: ...

    bulk = send.enqueue_many([("b@example.com",), ("c@example.com",), ("d@example.com",)])
    (batch,) = of_kind(spans, SpanKind.PRODUCER)
    assert batch.name == "send mail"
    assert batch.attributes is not None
    assert {k: batch.attributes[k] for k in batch.attributes if k != "server.address"} == {
        "messaging.system": "taskward",
        "messaging.operation.type": "send",
        "messaging.operation.name": "enqueue_many",
        "messaging.batch.message_count": 3,
        "messaging.destination.name": "mail",
    }
    trace_id, span_id = hexid(batch)
    for job in bulk:
        assert app.get_job(job.id).meta["traceparent"].split("-")[1:3] == [trace_id, span_id]
    assert {j.id for j in app.list_jobs(trace_id=trace_id)} == {j.id for j in bulk}

    spans.clear()
    mixed = app.enqueue_many([send.spec("e@example.com"), text.spec("+100")])
    (batch,) = of_kind(spans, SpanKind.PRODUCER)
    assert batch.name == "send"
    assert batch.attributes is not None
    assert "messaging.destination.name" not in batch.attributes
    assert len(mixed) == batch.attributes["messaging.batch.message_count"] == 2


def test_create_spans_give_each_job_of_a_batch_its_own_context(
    app: Taskward, make_inst: MakeInst, spans: InMemorySpanExporter
) -> None:
    make_inst(app, InstrumentationConfig(tracing=TracingConfig(create_spans=True)))

    @app.task(queue="mail")
    def send(to: str) -> None: ...

    bulk = send.enqueue_many([("b@example.com",), ("c@example.com",)])
    producers = of_kind(spans, SpanKind.PRODUCER)
    creates = [s for s in producers if s.name == "create mail"]
    (batch,) = [s for s in producers if s.name == "send mail"]
    assert len(creates) == 2
    assert {link.context.span_id for link in batch.links} == {
        s.context.span_id for s in creates if s.context is not None
    }
    by_id = {s.attributes["messaging.message.id"]: s for s in creates if s.attributes}
    for job in bulk:
        create = by_id[str(job.id)]
        assert create.attributes is not None
        assert create.attributes["messaging.operation.type"] == "create"
        trace_id, span_id = hexid(create)
        assert app.get_job(job.id).meta["traceparent"].split("-")[1:3] == [trace_id, span_id]


def test_attempts_are_linked_to_the_enqueue_and_to_the_failed_attempt(
    app: Taskward, inst: Instrumentation, spans: InMemorySpanExporter
) -> None:
    @app.task(backoff=Constant(0), max_attempts=2, tags=["billing"])
    def flaky() -> None:
        if current_attempt().job.attempt == 1:
            raise ConnectionError("gateway down")

    job = flaky.enqueue()
    drain(app)
    (producer,) = of_kind(spans, SpanKind.PRODUCER)
    first, second = of_kind(spans, SpanKind.CONSUMER)
    assert first.name == second.name == "process default"
    assert first.parent is None and second.parent is None  # link mode: each attempt a new trace
    assert first.context.trace_id != producer.context.trace_id
    assert [link.context.span_id for link in first.links] == [producer.context.span_id]
    assert [link.context.span_id for link in second.links] == [
        producer.context.span_id,
        first.context.span_id,
    ]
    assert first.attributes["taskward.job.attempt"] == 1
    assert second.attributes["taskward.job.attempt"] == 2
    assert first.attributes["taskward.job.outcome"] == "retryable"
    assert first.attributes["error.type"] == "ConnectionError"
    assert first.status.status_code is StatusCode.ERROR
    assert first.status.description == "gateway down"
    (exception,) = [e for e in first.events if e.name == "exception"]
    assert exception.attributes["exception.type"] == "ConnectionError"
    assert second.status.status_code is StatusCode.UNSET
    assert second.attributes["taskward.job.outcome"] == "completed"
    assert second.attributes["messaging.message.id"] == str(job.id)
    assert second.attributes["messaging.operation.type"] == "process"
    assert second.attributes["code.function.name"].endswith("flaky")
    assert tuple(second.attributes["taskward.job.tags"]) == ("billing",)
    assert second.attributes["messaging.client.id"]
    (error,) = app.get_job(job.id).errors  # the attempt's own trace is on its error entry
    assert (error["trace_id"], error["span_id"]) == hexid(first)


def test_child_mode_puts_attempts_in_the_enqueue_trace(
    app: Taskward, make_inst: MakeInst, spans: InMemorySpanExporter
) -> None:
    make_inst(app, InstrumentationConfig(tracing=TracingConfig(relationship="child")))

    @app.task
    def work() -> None: ...

    work.enqueue()
    drain(app)
    (producer,) = of_kind(spans, SpanKind.PRODUCER)
    (consumer,) = of_kind(spans, SpanKind.CONSUMER)
    assert consumer.parent is not None
    assert consumer.parent.span_id == producer.context.span_id
    assert consumer.context.trace_id == producer.context.trace_id


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_a_user_span_in_the_handler_is_a_child_of_the_attempt(
    app: Taskward, inst: Instrumentation, spans: InMemorySpanExporter, kind: str
) -> None:
    tracer = inst.tracing.tracer if inst.tracing else None
    assert tracer is not None

    if kind == "async":

        @app.task(name="handler")
        async def handler() -> None:
            with tracer.start_as_current_span("charge card"):
                await asyncio.sleep(0)
    else:

        @app.task(name="handler")
        def handler() -> None:
            with tracer.start_as_current_span("charge card"):
                pass

    app.enqueue("handler")
    drain(app)
    (attempt,) = of_kind(spans, SpanKind.CONSUMER)
    (user,) = [s for s in spans.get_finished_spans() if s.name == "charge card"]
    assert user.parent is not None
    assert user.parent.span_id == attempt.context.span_id
    assert user.context.trace_id == attempt.context.trace_id


def test_without_an_sdk_nothing_is_injected_but_upstream_context_passes(database_url: str) -> None:
    app = Taskward(database_url)
    inst = instrument(app, tracer_provider=trace.NoOpTracerProvider())
    try:

        @app.task
        def plain() -> None: ...

        alone = plain.enqueue()
        assert app.get_job(alone.id).meta == {}
        assert app.get_job(alone.id).trace_id is None
        from opentelemetry import propagate

        token = otel_context.attach(propagate.extract({"traceparent": TRACEPARENT}))
        try:
            inside: Job = plain.enqueue()
        finally:
            otel_context.detach(token)
        stored = app.get_job(inside.id)
        assert stored.meta["traceparent"] == TRACEPARENT
        assert stored.trace_id == TRACEPARENT.split("-")[1]
        drain(app)
    finally:
        inst.close()
        app.close()


def test_transactional_enqueue_commits_the_context_with_the_row(
    app: Taskward, inst: Instrumentation, spans: InMemorySpanExporter
) -> None:
    @app.task
    def audit() -> None: ...

    with app.connect() as conn:
        kept = audit.options(connection=conn).enqueue()
    try:
        with app.connect() as conn:
            audit.options(connection=conn).enqueue()
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    (job,) = app.list_jobs()
    assert job.id == kept.id
    assert job.meta["traceparent"]
    assert len(of_kind(spans, SpanKind.PRODUCER)) == 2


def test_tracer_provider_of_the_sdk_is_used_per_app(database_url: str) -> None:
    """Two apps in one process, each with its own provider: no cross-talk."""
    exporters = [InMemorySpanExporter(), InMemorySpanExporter()]
    apps = [Taskward(database_url), Taskward(database_url)]
    insts = []
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    for app, exporter in zip(apps, exporters, strict=True):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        insts.append(instrument(app, tracer_provider=provider))
        app.task(name="t")(lambda: None)
    apps[0].enqueue("t")
    try:
        assert len(exporters[0].get_finished_spans()) == 1
        assert exporters[1].get_finished_spans() == ()
    finally:
        for inst, app in zip(insts, apps, strict=True):
            inst.close()
            app.close()


def test_rescue_and_stage_runs_get_internal_spans(
    app: Taskward, inst: Instrumentation, spans: InMemorySpanExporter
) -> None:
    @app.task(queue="reports")
    def report() -> None: ...

    orphan = report.enqueue()
    delayed = report.options(in_=0.2).enqueue()
    with app.connect() as conn:  # a worker that died mid-attempt, never seen again
        app.store.claim(conn, "reports", "dead-worker", 1, app.clock.now())

    async def body(worker: Worker) -> None:
        await wait_for_states(app, [orphan.id, delayed.id], [JobState.COMPLETED], within=30)

    with_worker(app, body, {"reports": 2}, heartbeat_interval=0.05)
    inst.flush()
    internal = of_kind(spans, SpanKind.INTERNAL)
    (rescue,) = [s for s in internal if s.name == "rescue reports"]
    (producer,) = [
        s
        for s in of_kind(spans, SpanKind.PRODUCER)
        if s.attributes["messaging.message.id"] == str(orphan.id)
    ]
    assert rescue.attributes["messaging.batch.message_count"] == 1
    assert [link.context.span_id for link in rescue.links] == [producer.context.span_id]
    assert rescue.start_time <= rescue.end_time
    stages = [s for s in internal if s.name == "stage"]
    assert sum(s.attributes["messaging.batch.message_count"] for s in stages) >= 1
    labels = {"kind": "rescue"}
    assert (
        inst.registry.get_sample_value(
            "taskward_maintenance_last_success_timestamp_seconds", labels
        )
        or 0
    ) > 0
