"""Execution logs: captured from every thread of an attempt, capped, persisted on any ending."""

from __future__ import annotations

import asyncio
import contextvars
import io
import json
import logging
import threading
import tracemalloc
import uuid

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from taskward.core import JobState, Taskward, Worker
from taskward.core.instrumentation import (
    Instrumentation,
    InstrumentationConfig,
    JsonLineFormatter,
    LogEntry,
    LogsConfig,
    logs_for,
)
from taskward.core.testing import drain
from tests.core.worker_support import wait_for_states, wait_until, with_worker
from tests.observability.conftest import MakeInst, sample

TIMEOUT_ERROR = "taskward.core.errors.JobTimeoutError"


def entries(app: Taskward, job_id: uuid.UUID) -> list[LogEntry]:
    return logs_for(app, job_id, limit=10_000).entries


def messages(app: Taskward, job_id: uuid.UUID) -> list[str]:
    return [e.message for e in entries(app, job_id)]


def test_capture_from_async_sync_and_started_threads(
    app: Taskward,
    inst: Instrumentation,
    task_log: logging.Logger,
    spans: InMemorySpanExporter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    @app.task(name="in_async")
    async def in_async() -> None:
        task_log.info("from async code %d", 1)
        task_log.debug("below the minimum level")

    @app.task(name="in_sync")
    def in_sync() -> None:
        task_log.info("from sync code", extra={"invoice": 42})
        thread = threading.Thread(
            target=contextvars.copy_context().run, args=(task_log.warning, "from a thread")
        )
        thread.start()
        thread.join()

    a, s = app.enqueue("in_async"), app.enqueue("in_sync")
    drain(app)
    inst.flush()
    assert messages(app, a.id) == [
        "from async code 1",
        "attempt completed in " + _duration(app, a.id),
    ]
    logged = entries(app, s.id)
    assert [e.message for e in logged[:2]] == ["from sync code", "from a thread"]
    assert [e.seq for e in logged] == [1, 2, 3]
    assert logged[0].attributes["invoice"] == 42
    assert logged[1].severity_text == "WARNING" and logged[1].severity_number == 13
    assert logged[0].severity_number == 9 and logged[0].logger == task_log.name
    (attempt,) = [
        x
        for x in spans.get_finished_spans()
        if x.kind is SpanKind.CONSUMER and x.attributes["messaging.message.id"] == str(s.id)
    ]
    assert {e.trace_id for e in logged} == {format(attempt.context.trace_id, "032x")}
    forwarded = [r.getMessage() for r in caplog.records]  # normal handlers still see them
    assert {"from async code 1", "from sync code", "from a thread"} <= set(forwarded)
    assert (
        sample(inst, "taskward_execution_log_records_total", queue="default", outcome="persisted")
        == 5
    )


def _duration(app: Taskward, job_id: uuid.UUID) -> str:
    (last,) = [e for e in entries(app, job_id) if e.logger == "taskward.job"]
    return last.message.removeprefix("attempt completed in ")


def test_caps_on_records_and_message_size(
    app: Taskward, make_inst: MakeInst, task_log: logging.Logger
) -> None:
    config = LogsConfig(max_records=5, max_message_bytes=100)
    inst = make_inst(app, InstrumentationConfig(logs=config))

    @app.task
    def chatty() -> None:
        task_log.info("é" * 500)
        for i in range(11):
            task_log.info("line %d", i)

    job = chatty.enqueue()
    drain(app)
    inst.flush()
    logged = entries(app, job.id)
    assert [e.seq for e in logged] == [1, 2, 3, 4, 5, 6, 7]
    assert len(logged[0].message.encode()) <= 100 + len("…[truncated]".encode())
    assert logged[0].message.endswith("…[truncated]")
    assert [e.message for e in logged[1:5]] == ["line 0", "line 1", "line 2", "line 3"]
    assert logged[5].attributes["taskward.log.dropped"] == 7
    assert "7 more log records were dropped" in logged[5].message
    assert logged[6].attributes["event_name"] == "taskward.job.completed"
    assert (
        sample(inst, "taskward_execution_log_records_total", queue="default", outcome="dropped")
        == 7
    )
    assert (
        sample(inst, "taskward_execution_log_records_total", queue="default", outcome="persisted")
        == 7
    )


def test_args_are_logged_only_when_asked(app: Taskward, make_inst: MakeInst) -> None:
    config = LogsConfig(include_args=True, max_args_bytes=40)
    inst = make_inst(app, InstrumentationConfig(logs=config))

    @app.task(max_attempts=1)
    def secret(card: str, note: str = "") -> None:
        raise ValueError("declined")

    job = secret.enqueue("4111-1111", note="x" * 100)
    drain(app)
    inst.flush()
    (outcome,) = entries(app, job.id)
    args = outcome.attributes["taskward.job.args"]
    assert args.startswith('{"args": ["4111-1111"], "kwargs"')
    assert len(args.encode()) <= 40 + len("…[truncated]".encode())


def test_args_are_not_logged_by_default(app: Taskward, inst: Instrumentation) -> None:
    @app.task(max_attempts=1)
    def secret(card: str) -> None:
        raise ValueError("declined")

    job = secret.enqueue("4111-1111")
    drain(app)
    inst.flush()
    (outcome,) = entries(app, job.id)
    assert "taskward.job.args" not in outcome.attributes
    assert "4111" not in str(outcome)


def test_a_silent_success_writes_nothing(app: Taskward, inst: Instrumentation) -> None:
    @app.task
    def quiet() -> None: ...

    job = quiet.enqueue()
    drain(app)
    inst.flush()
    assert entries(app, job.id) == []


def test_logs_persist_when_the_job_raised_timed_out_or_was_cancelled(
    app: Taskward, inst: Instrumentation, task_log: logging.Logger
) -> None:
    waiting = threading.Event()
    release_late = threading.Event()

    @app.task(max_attempts=1)
    def bad() -> None:
        task_log.info("about to fail")
        raise ValueError("bad input")

    @app.task(max_attempts=1, timeout=0.1)
    async def slow() -> None:
        task_log.info("slow started")
        await asyncio.sleep(30)

    @app.task(max_attempts=1, timeout=0.1)
    def slow_sync() -> None:
        task_log.info("sync started")
        release_late.wait(10)
        task_log.info("after the attempt ended")  # its thread outlived the attempt

    @app.task(max_attempts=1)
    async def stoppable() -> None:
        task_log.info("waiting to be cancelled")
        waiting.set()
        await asyncio.sleep(30)

    jobs = [bad.enqueue(), slow.enqueue(), slow_sync.enqueue(), stoppable.enqueue()]

    async def body(worker: Worker) -> None:
        await wait_until(waiting.is_set, what="the job to run", within=30)
        await asyncio.to_thread(app.cancel, jobs[3].id)
        await wait_for_states(
            app, [j.id for j in jobs], [JobState.DISCARDED, JobState.CANCELLED], within=30
        )
        release_late.set()

    with_worker(app, body, {"default": 4})
    inst.flush()
    failed, timed_out, timed_out_sync, cancelled = (entries(app, j.id) for j in jobs)
    assert failed[0].message == "about to fail"
    assert failed[1].attributes["event_name"] == "taskward.job.discarded"
    assert failed[1].attributes["exception.type"] == "ValueError"
    assert "ValueError: bad input" in (failed[1].exception or "")
    assert timed_out[0].message == "slow started"
    assert timed_out[1].attributes["exception.type"] == TIMEOUT_ERROR
    assert [e.message for e in timed_out_sync][:1] == ["sync started"]
    assert timed_out_sync[1].attributes["exception.type"] == TIMEOUT_ERROR
    assert len(timed_out_sync) == 2
    assert cancelled[0].message == "waiting to be cancelled"
    assert cancelled[1].attributes["event_name"] == "taskward.job.cancelled"


def test_an_attempt_handed_back_on_shutdown_keeps_its_logs_and_the_rerun_appends(
    app: Taskward, inst: Instrumentation, task_log: logging.Logger
) -> None:
    started = threading.Event()
    runs: list[int] = []

    @app.task
    async def long_job() -> None:
        runs.append(1)
        task_log.info("run %d", len(runs))
        if len(runs) == 1:
            started.set()
            await asyncio.sleep(30)

    job = long_job.enqueue()

    async def body(worker: Worker) -> None:
        await wait_until(started.is_set, what="the first run", within=30)
        await worker.shutdown(grace=0)

    with_worker(app, body)
    inst.flush()
    assert app.get_job(job.id).state is JobState.AVAILABLE
    assert messages(app, job.id) == ["run 1"]
    drain(app)
    inst.flush()
    logged = entries(app, job.id)
    assert [(e.attempt, e.seq) for e in logged] == [(1, 1), (1, 2), (1, 3)]
    assert [e.message for e in logged[:2]] == ["run 1", "run 2"]


def test_a_handler_logging_100000_lines_stays_within_bounded_memory(
    sqlite_database: str, make_inst: MakeInst, task_log: logging.Logger
) -> None:
    """Memory is the buffer's business, not the dialect's: one database is enough."""
    app = Taskward(sqlite_database)
    inst = make_inst(app)

    @app.task
    def flood() -> None:
        for i in range(100_000):
            task_log.info("line %d of a very chatty handler", i)

    job = flood.enqueue()
    root = logging.getLogger()
    others = root.handlers[1:]  # pytest's capture would itself keep all 100,000 records
    for handler in others:
        root.removeHandler(handler)
    tracemalloc.start()
    try:
        drain(app)
        inst.flush()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        for handler in others:
            root.addHandler(handler)
    logged = entries(app, job.id)
    assert len(logged) == 1002
    assert logged[1000].attributes["taskward.log.dropped"] == 99_000
    assert peak < 16 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    assert (
        sample(inst, "taskward_execution_log_records_total", queue="default", outcome="dropped")
        == 99_000
    )
    inst.close()
    app.close()


def test_json_lines_carry_the_attempt_and_its_trace(
    app: Taskward, inst: Instrumentation, task_log: logging.Logger
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLineFormatter(service_name="billing-worker"))
    task_log.addHandler(handler)
    try:

        @app.task(name="billing.charge", queue="billing", max_attempts=3)
        def charge() -> None:
            task_log.info("charging", extra={"invoice": 7})

        job = charge.enqueue()
        drain(app)
        task_log.info("outside any job")
    finally:
        task_log.removeHandler(handler)
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["message"] == "charging"
    assert inside["invoice"] == 7
    assert inside["service.name"] == "billing-worker"
    assert inside["taskward.job.id"] == str(job.id)
    assert inside["taskward.job.attempt"] == 1
    assert inside["taskward.job.max_attempts"] == 3
    assert inside["taskward.queue"] == "billing"
    assert inside["taskward.task.name"] == "billing.charge"
    assert inside["taskward.log.seq"] == 1
    assert inside["taskward.worker.id"]
    assert inside["severity_text"] == "INFO" and inside["severity_number"] == 9
    assert len(inside["trace_id"]) == 32 and len(inside["span_id"]) == 16
    assert inside["timestamp"].endswith("Z")
    assert {"host.name", "process.pid", "logger", "trace_flags"} <= set(inside)
    assert "taskward.job.id" not in outside and "trace_id" not in outside
    # The job's own trace (its enqueue's) too: attempts are linked, so it is another trace.
    assert job.trace_id is not None and len(job.trace_id) == 32
    assert inside["taskward.job.trace_id"] == job.trace_id != inside["trace_id"]
    inst.flush()
    (stored, _outcome) = entries(app, job.id)
    again = json.loads(JsonLineFormatter().format_entry(stored))
    assert (again["trace_id"], again["taskward.log.seq"]) == (inside["trace_id"], 1)
    assert again["taskward.job.trace_id"] == job.trace_id


def test_logs_are_paginated_by_attempt_and_seq(
    app: Taskward, inst: Instrumentation, task_log: logging.Logger
) -> None:
    from taskward.core import Constant, current_attempt

    @app.task(backoff=Constant(0), max_attempts=2)
    def twice() -> None:
        for i in range(120):
            task_log.info("attempt %d line %d", current_attempt().job.attempt, i)
        if current_attempt().job.attempt == 1:
            raise RuntimeError("again")

    job = twice.enqueue()
    drain(app)
    inst.flush()
    seen: list[tuple[int, int]] = []
    after = (0, 0)
    while True:
        page = logs_for(app, job.id, after=after, limit=100)
        seen += [(e.attempt, e.seq) for e in page.entries]
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == [(1, s) for s in range(1, 122)] + [(2, s) for s in range(1, 122)]
    second = logs_for(app, str(job.id), attempt=2, limit=5)
    assert [(e.attempt, e.seq) for e in second.entries] == [(2, s) for s in range(1, 6)]
    assert second.next_after == (2, 5)


def test_one_unstorable_attempt_does_not_cost_the_others_their_logs(
    app: Taskward, inst: Instrumentation, task_log: logging.Logger
) -> None:
    @app.task
    def polite(n: int) -> None:
        task_log.info("fine %d", n)

    @app.task
    def nasty() -> None:
        task_log.info("odd", extra={"blob": "nul\x00byte"})  # PostgreSQL's JSONB refuses it

    @app.task
    def nul_message() -> None:
        task_log.info("a NUL\x00 in the message is kept visible")

    jobs = polite.enqueue_many([(1,), (2,)])
    visible = nul_message.enqueue()
    odd = nasty.enqueue()
    drain(app)
    inst.flush()
    for job in jobs:
        assert messages(app, job.id)[0].startswith("fine")
    assert messages(app, visible.id)[0] == "a NUL\\x00 in the message is kept visible"
    stored = entries(app, odd.id)
    if app.store.dialect == "postgresql":
        assert stored == []
        dropped = sample(
            inst, "taskward_execution_log_records_total", queue="default", outcome="dropped"
        )
        assert dropped == 2
    else:
        assert stored[0].attributes["blob"] == "nul\x00byte"
