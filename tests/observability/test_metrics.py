"""Event metrics from the spine agree with the database, with bounded labels."""

from __future__ import annotations

import asyncio
import threading

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics

from taskward.core import Job, JobState, Taskward, Worker, __version__
from taskward.core._ids import uuid7
from taskward.core.events import (
    Event,
    JobCancelled,
    JobCompleted,
    JobReleased,
    JobSnoozed,
    JobStarted,
    WorkerStarted,
    WorkerStopped,
)
from taskward.core.instrumentation import (
    Instrumentation,
    InstrumentationConfig,
    LogsConfig,
    MetricsConfig,
    TracingConfig,
    instrument,
)
from taskward.core.testing import drain
from taskward.core.worker.transitions import rescued
from tests.core.worker_support import wait_until, with_worker
from tests.observability.conftest import MakeInst, sample, totals
from tests.observability.mix import db_truth, define_mix, enqueue_mix

ERROR_TYPES = ("ConnectionError", "ValueError", "taskward.core.errors.JobTimeoutError")


def test_event_metrics_equal_the_databases_counts(app: Taskward, inst: Instrumentation) -> None:
    define_mix(app)
    enqueue_mix(app)
    drain(app)
    inst.flush()
    truth = db_truth(app)
    assert truth.attempts == {"completed": 6, "retryable": 1, "discarded": 2, "cancelled": 1}
    assert totals(inst, "taskward_job_attempts", "outcome") == truth.attempts
    assert totals(inst, "taskward_job_errors", "error_type") == truth.errors
    assert sorted(truth.errors) == sorted(ERROR_TYPES)
    assert sum(totals(inst, "taskward_jobs_inserted", "task").values()) == truth.inserted == 10
    completed = sample(
        inst,
        "taskward_job_duration_seconds_count",
        queue="default",
        task="mix.ok",
        outcome="completed",
    )
    assert completed == 5
    timed_out = sample(
        inst,
        "taskward_job_duration_seconds_count",
        queue="default",
        task="mix.slow",
        outcome="failed",
    )
    assert timed_out == 1
    waits = sum(
        sample(inst, "taskward_job_queue_wait_seconds_count", queue="default", task=t)
        for t in ("mix.ok", "mix.flaky", "mix.bad", "mix.stop", "mix.slow")
    )
    assert waits == sum(truth.attempts.values())


def test_known_label_sets_start_at_zero(app: Taskward, inst: Instrumentation) -> None:
    @app.task(queue="mail")
    def send() -> None: ...

    async def body(worker: Worker) -> None:
        claimed = lambda: bool(totals(inst, "taskward_claims", "result"))  # noqa: E731
        await wait_until(claimed, what="a claim", within=30)

    with_worker(app, body, {"mail": 3})
    inst.flush()
    for outcome in ("completed", "retryable", "discarded", "cancelled"):
        labels = {"queue": "mail", "task": send.name, "outcome": outcome}
        assert inst.registry.get_sample_value("taskward_job_attempts_total", labels) == 0
    for result in ("jobs", "empty", "error"):
        labels = {"queue": "mail", "result": result}
        assert inst.registry.get_sample_value("taskward_claims_total", labels) is not None
    build = {"version": __version__, "dialect": app.store.dialect}
    assert any(
        s.name == "taskward_build_info" and build.items() <= s.labels.items() and s.value == 1
        for f in inst.registry.collect()
        for s in f.samples
    )


def test_unknown_tasks_count_as_other_and_error_types_are_capped(
    database_url: str, make_inst: MakeInst
) -> None:
    app = Taskward(database_url, allow_unregistered=True)
    try:
        inst = make_inst(app, InstrumentationConfig(metrics=MetricsConfig(max_error_types=2)))
        errors = [type(f"Error{i}", (Exception,), {}) for i in range(5)]

        @app.task(name="raiser", max_attempts=1)
        def raiser(i: int) -> None:
            raise errors[i]("boom")

        raiser.enqueue_many([(i,) for i in range(5)])
        app.enqueue("somebody.elses.task", queue="default")
        drain(app)
        inst.flush()
        by_type = totals(inst, "taskward_job_errors", "error_type")
        assert by_type == {
            f"{__name__}.Error0": 1,
            f"{__name__}.Error1": 1,
            "_OTHER": 3,
            "taskward.UnknownTask": 1,  # task="_other" has its own quota
        }
        assert sample(inst, "taskward_jobs_inserted_total", queue="default", task="_other") == 1
        other = {"queue": "default", "task": "_other", "outcome": "retryable"}
        assert sample(inst, "taskward_job_attempts_total", **other) == 1
    finally:
        app.close()


def test_task_label_switch_drops_task_from_histograms(app: Taskward, make_inst: MakeInst) -> None:
    inst = make_inst(app, InstrumentationConfig(metrics=MetricsConfig(task_label=False)))

    @app.task
    def quick() -> None: ...

    quick.enqueue_many([() for _ in range(3)])
    drain(app)
    inst.flush()
    assert (
        sample(inst, "taskward_job_duration_seconds_count", queue="default", outcome="completed")
        == 3
    )
    assert sample(inst, "taskward_job_queue_wait_seconds_count", queue="default") == 3
    assert (
        sample(
            inst,
            "taskward_job_attempts_total",
            queue="default",
            task=quick.name,
            outcome="completed",
        )
        == 3
    )


def test_exemplars_carry_the_sampled_attempt_span(
    app: Taskward, inst: Instrumentation, spans: InMemorySpanExporter
) -> None:
    @app.task
    def traced() -> None: ...

    traced.enqueue()
    drain(app)
    inst.flush()
    (attempt,) = [s for s in spans.get_finished_spans() if s.name == "process default"]
    trace_id = format(attempt.context.trace_id, "032x")
    span_id = format(attempt.context.span_id, "016x")
    text = openmetrics(inst.registry).decode()
    exemplar = f'# {{span_id="{span_id}",trace_id="{trace_id}"}}'
    counter = [line for line in text.splitlines() if line.startswith("taskward_job_attempts_total")]
    assert any(exemplar in line and 'outcome="completed"' in line for line in counter)
    assert any(
        exemplar in line
        for line in text.splitlines()
        if line.startswith("taskward_job_duration_seconds_bucket")
    )


def test_no_exemplar_when_the_span_is_not_sampled(database_url: str) -> None:
    app = Taskward(database_url)
    provider = TracerProvider(sampler=ALWAYS_OFF)
    inst = instrument(app, tracer_provider=provider)
    try:

        @app.task
        def untraced() -> None: ...

        untraced.enqueue()
        drain(app)
        inst.flush()
        assert (
            sample(
                inst,
                "taskward_job_attempts_total",
                queue="default",
                task=untraced.name,
                outcome="completed",
            )
            == 1
        )
        assert "trace_id" not in openmetrics(inst.registry).decode()
    finally:
        inst.close()
        app.close()


def test_claims_executing_and_limit_gauges(app: Taskward, inst: Instrumentation) -> None:
    release = threading.Event()
    running = threading.Event()

    @app.task
    def hold() -> None:
        running.set()
        release.wait(10)

    job = hold.enqueue()

    async def body(worker: Worker) -> None:
        await wait_until(running.is_set, what="the job to start", within=30)
        await asyncio.to_thread(inst.flush)
        assert sample(inst, "taskward_worker_jobs_executing", queue="default") == 1
        assert sample(inst, "taskward_worker_concurrency_limit", queue="default") == 4
        release.set()
        await wait_until(lambda: app.get_job(job.id).state is JobState.COMPLETED, within=30)

    with_worker(app, body, {"default": 4})
    inst.flush()
    assert sample(inst, "taskward_worker_jobs_executing", queue="default") == 0
    assert sample(inst, "taskward_worker_concurrency_limit", queue="default") == 0
    claims = totals(inst, "taskward_claims", "result")
    assert claims["jobs"] >= 1
    assert claims["empty"] >= 1
    assert sample(inst, "taskward_claim_duration_seconds_count", queue="default") == sum(
        claims.values()
    )


def test_rescued_jobs_are_counted(app: Taskward, inst: Instrumentation) -> None:
    @app.task(queue="reports")
    def report() -> None: ...

    report.enqueue_many([(), ()])
    now = app.clock.now()
    with app.connect() as conn:
        orphans = [e.job for e in app.store.claim(conn, "reports", "dead-worker", 10, now)]
        events = [rescued(job, now) for job in orphans]
        app.store.write_transitions(conn, events)
    app.emit(events)
    inst.flush()
    assert sample(inst, "taskward_jobs_rescued_total", queue="reports") == 2


def test_bad_settings_are_refused_with_their_key() -> None:
    with pytest.raises(ValueError, match=r"tracing\.relationship"):
        TracingConfig(relationship="sibling")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"logs\.max_records: expected a number >= 1, got 0"):
        LogsConfig(max_records=0)
    with pytest.raises(ValueError, match=r"metrics\.max_error_types"):
        MetricsConfig(max_error_types=0)


def test_executing_counts_jobs_started_here_until_settled(
    app: Taskward, inst: Instrumentation
) -> None:
    assert inst.metrics is not None
    now = app.clock.now()

    def job(worker: str = "w1") -> Job:
        return Job(id=uuid7(), queue="q", task="t", state=JobState.EXECUTING, attempted_by=worker)

    def executing() -> float:
        return sample(inst, "taskward_worker_jobs_executing", queue="q")

    a, b, c, lost = job(), job(), job(), job()
    events: list[Event] = [
        WorkerStarted(at=now, worker_id="w1", queues={"q": 4}),
        *(JobStarted(at=now, job=j, queue_wait=0.0) for j in (a, b, c, lost)),
        JobCompleted(at=now, job=a, duration=0.1),
        JobSnoozed(at=now, job=b, duration=0.1, next_at=now),
        JobReleased(at=now, job=job(), from_worker="w1"),  # claimed, never started
        JobCancelled(at=now, job=job(), reason="by the API"),  # never ran
    ]
    for event in events:
        inst.metrics.handle(event)
    assert executing() == 2  # c, and lost
    inst.metrics.handle(JobReleased(at=now, job=c, from_worker="w1"))
    assert executing() == 1
    inst.metrics.handle(WorkerStopped(at=now, worker_id="w1"))  # lost's end never came
    assert executing() == 0
