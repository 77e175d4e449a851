"""Observers that raise or block never fail or stall a job."""

from __future__ import annotations

import asyncio
import threading

import sqlalchemy as sa
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from taskward.core import JobState, Taskward
from taskward.core.events import JobCompleted, JobStarted
from taskward.core.instrumentation import Instrumentation, instrument
from tests.observability.conftest import sample

JOBS = 20


def run_jobs(app: Taskward) -> list[JobState]:
    @app.task(name="work")
    def work(i: int) -> int:
        import logging

        logging.getLogger("tests.observability.task").warning("working on %d", i)
        return i

    jobs = work.enqueue_many([(i,) for i in range(JOBS)])
    asyncio.run(app.worker(["default"]).drain())  # (testing.drain would wait for subscribers)
    return [app.get_job(j.id).state for j in jobs]


def test_a_raising_metrics_subscriber(app: Taskward, inst: Instrumentation) -> None:
    assert inst.metrics is not None

    def broken(event: object) -> None:
        raise RuntimeError("metrics are broken")

    inst.metrics._dispatch[JobCompleted] = broken
    assert run_jobs(app) == [JobState.COMPLETED] * JOBS
    inst.flush()
    (sub,) = [s for s in app.bus.subscriptions if s.name == "taskward-metrics"]
    assert sub.stats.errors == JOBS


def test_a_blocking_metrics_subscriber(app: Taskward, inst: Instrumentation) -> None:
    assert inst.metrics is not None
    gate = threading.Event()
    inst.metrics._dispatch[JobStarted] = lambda event: gate.wait(30)
    try:
        assert run_jobs(app) == [JobState.COMPLETED] * JOBS  # finished while metrics wait
    finally:
        gate.set()
    inst.flush()
    completed = sample(
        inst, "taskward_job_attempts_total", queue="default", task="work", outcome="completed"
    )
    assert completed == JOBS  # and caught up once unblocked


class Raising(SpanProcessor):
    def on_start(self, span: Span, parent_context: object = None) -> None:
        raise RuntimeError("tracing is broken")

    def on_end(self, span: ReadableSpan) -> None:
        raise RuntimeError("tracing is broken")


class Stuck(SpanExporter):
    def __init__(self) -> None:
        self.gate = threading.Event()

    def export(self, spans: object) -> SpanExportResult:
        self.gate.wait(30)
        return SpanExportResult.SUCCESS


def test_a_raising_or_blocking_trace_pipeline(app: Taskward) -> None:
    stuck = Stuck()
    blocking = BatchSpanProcessor(
        stuck, max_queue_size=8, max_export_batch_size=4, schedule_delay_millis=10
    )
    for processor in (Raising(), blocking):
        provider = TracerProvider()
        provider.add_span_processor(processor)
        inst = instrument(app, tracer_provider=provider)
        try:
            assert run_jobs(app) == [JobState.COMPLETED] * JOBS
        finally:
            stuck.gate.set()
            inst.close()
            provider.shutdown()


def test_log_persistence_that_fails(app: Taskward, inst: Instrumentation) -> None:
    with app.connect() as conn:
        conn.execute(sa.text("ALTER TABLE taskward_job_logs RENAME TO taskward_job_logs_away"))
    assert run_jobs(app) == [JobState.COMPLETED] * JOBS
    inst.flush()
    dropped = sample(
        inst, "taskward_execution_log_records_total", queue="default", outcome="dropped"
    )
    assert dropped == 2 * JOBS  # each attempt: its record and its outcome record


def test_log_persistence_that_blocks(postgresql_database: str) -> None:
    """A locked log table stalls only the log writer (PostgreSQL: SQLite has one writer)."""
    app = Taskward(postgresql_database)
    inst = instrument(app)
    locker = sa.create_engine(postgresql_database.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with locker.connect() as conn:
            conn.execute(sa.text("LOCK TABLE taskward_job_logs IN ACCESS EXCLUSIVE MODE"))
            assert run_jobs(app) == [JobState.COMPLETED] * JOBS
            assert not inst.logs.flush(timeout=0.2)  # type: ignore[union-attr]
            conn.rollback()
        assert inst.flush()
        persisted = sample(
            inst, "taskward_execution_log_records_total", queue="default", outcome="persisted"
        )
        assert persisted == 2 * JOBS
    finally:
        inst.close()
        app.close()
        locker.dispose()
