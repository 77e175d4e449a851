"""Instrumentation overhead and scrape cost.

Overhead: the no-op job of ``throughput`` with metrics, tracing (the real OTel
SDK, a ``BatchSpanProcessor`` into an exporter that discards) and log capture
all on, against all off, in the same run, ``ROUNDS`` times interleaved.

* ``instrumentation_overhead_pct``: from the worker process's CPU time per job
  (all its threads: the SDK's processor, the metrics subscriber, the log
  writer), as the throughput a CPU-bound worker loses: ``1 - cpu_off / cpu_on``.
  CPU time, unlike wall time, holds still when other work shares the machine.
* ``instrumentation_overhead_wall_pct``: the same from the jobs/s of worker
  subprocesses (``bench.throughput.measure``); trustworthy on a quiet machine only.
  Each mode's best round counts (other work on the machine only ever slows a round).
* ``instrumentation_own_us``: Taskward's own CPU per attempt without an SDK, in a
  tight loop (the three middleware around a no-op call, and the metrics subscriber's
  handling of the attempt's three events): small enough to be lost in the noise of
  the end-to-end figures, so measured on its own.
* ``..._sampled_10pct_pct``: both again with the SDK sampling 10% of traces, and
  ``..._without_sdk_pct`` with no SDK configured (spans through the API are
  non-recording): Taskward's own share of the cost.
* ``instrumentation_sdk_floor_us`` (and ``_pct`` of a job): the OTel SDK's own CPU
  per recorded attempt span, the API calls Taskward makes for one attempt in a tight
  loop: the part of the ``on`` overhead no change in Taskward can remove.
* ``instrumentation_overhead_1ms_job_pct`` (and ``_sampled_10pct_``): derived, the
  same per-attempt cost on a job that works 1 ms of CPU instead of none.

``metrics_scrape_ms``: the median time of an HTTP ``GET /metrics`` on an app
with 10 queues and 50 tasks, every task having run jobs of every outcome, and
the collector reading the database on every scrape (TTL 0);
``metrics_scrape_worst_case_ms``: the same with every task run in every queue
(500 pairs: the documented worst case of the series count).
"""

from __future__ import annotations

import asyncio
import functools
import statistics
import threading
import time
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import NoOpTracerProvider, SpanContext, SpanKind, TraceFlags

from bench.databases import Databases
from bench.results import record
from bench.tasks import NOOP_ASYNC, QUEUE, make_app
from bench.throughput import JOBS, measure
from taskward.core import AttemptContext, Cancel, Job, JobSpec, JobState, Taskward
from taskward.core._ids import uuid7
from taskward.core.events import Event, JobCompleted, JobStarted, QueueClaimed
from taskward.core.instrumentation import (
    InstrumentationConfig,
    MetricsConfig,
    TracingConfig,
    instrument,
)
from taskward.core.instrumentation.tracing import NEW_TRACE, Tracing, attempt_attributes
from taskward.core.outcomes import Outcome
from taskward.core.task import EnqueueOptions
from taskward.core.testing import drain

ROUNDS = 5
QUEUES, TASKS = 10, 50
SCRAPES = 20
#: Instrumentation modes: none; the SDK recording every attempt; the SDK sampling 10% of
#: traces (ParentBased(TraceIdRatioBased(0.1))); no SDK (spans through the API only).
#: A job doing this much CPU work, for the derived overhead on a job that does something.
BUSY_JOB_S = 0.001
MODES = ("off", "on", "on_sampled_10pct", "on_without_sdk")


class Discard(SpanExporter):
    """Exports nowhere: what is measured is Taskward's cost plus the SDK's own."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


@dataclass(frozen=True, slots=True)
class Signals:
    """What ``_instrument`` turned on: ``flush`` waits for its threads' backlog."""

    flush: Callable[[], None]
    close: Callable[[], None]


def _instrument(app: Taskward, mode: str) -> Signals:
    """Every signal on, spans as ``mode`` says."""
    if mode == "off":
        return Signals(flush=lambda: None, close=lambda: None)
    provider: TracerProvider | NoOpTracerProvider = NoOpTracerProvider()
    if mode != "on_without_sdk":
        ratio = 0.1 if mode == "on_sampled_10pct" else 1.0
        provider = TracerProvider(sampler=ParentBased(TraceIdRatioBased(ratio)))
        provider.add_span_processor(BatchSpanProcessor(Discard()))
    inst = instrument(app, tracer_provider=provider)

    def flush() -> None:
        inst.flush()
        if isinstance(provider, TracerProvider):
            provider.force_flush()

    def close() -> None:
        inst.close()
        if isinstance(provider, TracerProvider):
            provider.shutdown()

    return Signals(flush=flush, close=close)


def instrumented_app(url: str, mode: str = "on") -> Taskward:
    """The bench app with every signal on (worker subprocesses: ``app_factory``)."""
    app = make_app(url)
    _instrument(app, mode)
    return app


def instrumented_app_sampled(url: str) -> Taskward:
    return instrumented_app(url, "on_sampled_10pct")


def instrumented_app_without_sdk(url: str) -> Taskward:
    return instrumented_app(url, "on_without_sdk")


FACTORIES = {
    "off": None,
    "on": f"{__name__}:instrumented_app",
    "on_sampled_10pct": f"{__name__}:instrumented_app_sampled",
    "on_without_sdk": f"{__name__}:instrumented_app_without_sdk",
}


def run(dbs: Databases) -> None:
    cpu: dict[str, list[float]] = {mode: [] for mode in MODES}
    wall: dict[str, list[float]] = {mode: [] for mode in MODES}
    for _ in range(ROUNDS):  # interleaved, so drift in the machine's load hits all alike
        for mode in MODES:
            cpu[mode].append(cpu_per_job(dbs.fresh(), mode))
            wall[mode].append(measure(dbs.fresh(), NOOP_ASYNC, app_factory=FACTORIES[mode]))
    for mode in MODES:
        micros = [round(x * 1e6) for x in cpu[mode]]
        print(f"    {mode}: CPU {micros} us/job, {[round(x) for x in wall[mode]]} jobs/s")
    # The least each mode took: interference from the rest of the machine only ever adds.
    c = {mode: min(v) for mode, v in cpu.items()}
    w = {mode: max(v) for mode, v in wall.items()}
    record("process_instrumented_jobs_per_s", dbs.dialect, w["on"], "jobs/s")
    record("job_cpu_us", dbs.dialect, c["off"] * 1e6, "us")
    record("job_cpu_instrumented_us", dbs.dialect, c["on"] * 1e6, "us")
    for mode in MODES[1:]:
        suffix = mode.removeprefix("on")
        record(f"instrumentation_overhead{suffix}_pct", dbs.dialect, _lost(c["off"], c[mode]), "%")
        lost = 100 * (w["off"] - w[mode]) / w["off"]
        record(f"instrumentation_overhead_wall{suffix}_pct", dbs.dialect, lost, "%")
    # The same cost on a job that works 1 ms of CPU (derived: the instrumentation's
    # cost per attempt does not depend on what the handler does, unless it logs).
    for mode in ("on", "on_sampled_10pct"):
        suffix = mode.removeprefix("on")
        busy = _lost(c["off"] + BUSY_JOB_S, c[mode] + BUSY_JOB_S)
        record(f"instrumentation_overhead{suffix}_1ms_job_pct", dbs.dialect, busy, "%")
    own = own_us_per_attempt(dbs.fresh())
    record("instrumentation_own_us", dbs.dialect, own, "us")
    record("instrumentation_own_pct", dbs.dialect, 100 * own / (c["off"] * 1e6), "%")
    floor = sdk_floor_us(dbs.fresh())
    record("instrumentation_sdk_floor_us", dbs.dialect, floor, "us")
    floor_pct = _lost(c["off"], c["off"] + floor / 1e6)
    record("instrumentation_sdk_floor_pct", dbs.dialect, floor_pct, "%")
    record("metrics_scrape_ms", dbs.dialect, scrape_ms(dbs.fresh()), "ms")
    worst = scrape_ms(dbs.fresh(), every_queue=True)
    record("metrics_scrape_worst_case_ms", dbs.dialect, worst, "ms")


def _lost(cpu_off: float, cpu_on: float) -> float:
    """Throughput lost, in %, by a CPU-bound worker whose CPU per job grew so."""
    return 100 * (1 - cpu_off / cpu_on)


def cpu_per_job(url: str, mode: str, jobs: int = JOBS) -> float:
    """CPU seconds of this process per job while a worker in it runs ``jobs`` no-op jobs.

    The jobs are enqueued first by another app, instrumented alike, as a web app
    would: they carry its ``traceparent``, so each attempt span gets its link, and
    the worker's process pays only for running them. The clock stops once the
    signals' threads have also caught up (bus subscribers, span processor).
    """
    producer = make_app(url)
    signals = _instrument(producer, mode)
    producer.enqueue_many([JobSpec(NOOP_ASYNC, (n,)) for n in range(jobs)])
    signals.flush()  # its threads must not run on into the measurement
    signals.close()
    producer.close()
    app = make_app(url)
    signals = _instrument(app, mode)
    try:
        done, seen = threading.Event(), [0]

        def count(event: Event) -> None:
            seen[0] += 1
            if seen[0] == jobs:
                done.set()

        app.bus.subscribe(count, kinds=[JobCompleted])
        worker = app.worker({QUEUE: 100})

        async def main() -> float:
            began = time.process_time()
            running = asyncio.create_task(worker.run())  # as `taskward worker` runs it
            finished = await asyncio.to_thread(done.wait, 300)
            signals.flush()
            took = time.process_time() - began
            worker.request_stop()
            await running
            if not finished:
                raise RuntimeError(f"only {seen[0]} of {jobs} jobs completed in 300 s")
            return took

        return asyncio.run(main()) / jobs
    finally:
        signals.close()
        app.close()


def _attempt(app: Taskward) -> tuple[datetime, AttemptContext]:
    """An executing no-op job's attempt, for the tight loops below."""
    now = datetime.now(UTC)
    job = Job(
        id=uuid7(), queue=QUEUE, task=NOOP_ASYNC, state=JobState.EXECUTING, attempt=1,
        inserted_at=now, scheduled_at=now, attempted_at=now,
    )  # fmt: skip
    return now, AttemptContext(job=job, task=app.tasks[NOOP_ASYNC], worker_id="bench")


def own_us_per_attempt(url: str, attempts: int = 20_000) -> float:
    """Microseconds of CPU Taskward's instrumentation adds to one attempt (no SDK)."""
    app = make_app(url)
    inst = instrument(app, tracer_provider=NoOpTracerProvider())
    try:
        now, ctx = _attempt(app)
        job = ctx.job
        done = Outcome("completed", 0.0)
        events = [
            JobStarted(at=now, job=job, queue_wait=0.0),
            JobCompleted(at=now, job=job, duration=0.0),
            QueueClaimed(at=now, queue=QUEUE, worker_id="bench", count=1, duration=0.0),
        ]

        async def handler() -> Outcome:
            return done

        async def attempts_in_a_row() -> None:
            call: Callable[[], Awaitable[Outcome]] = handler
            for mw in reversed(inst.middleware):
                call = functools.partial(mw, ctx, call)
            for _ in range(attempts):
                await call()

        assert inst.metrics is not None
        began = time.process_time()
        asyncio.run(attempts_in_a_row())
        for _ in range(attempts):
            for event in events:
                inst.metrics.handle(event)
        return (time.process_time() - began) / attempts * 1e6
    finally:
        inst.close()
        app.close()


def sdk_floor_us(url: str, spans: int = 20_000) -> float:
    """Microseconds of CPU the OTel SDK itself takes per recorded attempt span.

    Only the calls Taskward makes for one attempt, with the attributes and link it
    gives: start, attach/detach, outcome, end into a ``BatchSpanProcessor`` (exporting
    nowhere, flushed). Taskward's own share is the rest of the ``on`` mode's cost.
    """
    app = make_app(url)
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Discard()))
    tracing = Tracing(app, TracingConfig(), provider)
    try:
        _, ctx = _attempt(app)
        shared, own = tracing.task_attributes(ctx), attempt_attributes(ctx)
        start = functools.partial(tracing.tracer.start_span, f"process {QUEUE}", NEW_TRACE)
        link = SpanContext(uuid7().int, 1, is_remote=True, trace_flags=TraceFlags(1))
        best = float("inf")
        for _ in range(ROUNDS):
            began = time.process_time()
            for _ in range(spans):
                span = start(SpanKind.CONSUMER, shared)
                span.set_attributes(own)
                span.add_link(link)
                otel_context.detach(otel_context.attach(trace.set_span_in_context(span)))
                span.set_attribute("taskward.job.outcome", "completed")
                span.end()
            provider.force_flush()
            best = min(best, time.process_time() - began)
        return best / spans * 1e6
    finally:
        provider.shutdown()
        app.close()


def scrape_ms(url: str, *, every_queue: bool = False) -> float:
    """Median ``GET /metrics`` time with 50 tasks over 10 queues (each task in its own
    queue; ``every_queue``: every task in every queue, the documented worst case)."""
    app = Taskward(url)
    config = InstrumentationConfig(metrics=MetricsConfig(collector_ttl=0))
    inst = instrument(app, tracing=False, logs=False, config=config)
    try:
        queues = [f"queue-{q}" for q in range(QUEUES)]
        _many_tasks(app)
        specs = [
            JobSpec(f"task-{t}", (outcome,), options=EnqueueOptions(queue=q))
            for t in range(TASKS)
            for q in (queues if every_queue else [queues[t % QUEUES]])
            for outcome in ("ok", "fail", "cancel")
        ]
        app.enqueue_many(specs)
        drain(app, dict.fromkeys(queues, 50))
        inst.flush()
        server = inst.serve_metrics(0, "127.0.0.1")
        times, size = [], 0
        for _ in range(SCRAPES):
            began = time.perf_counter()
            with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics") as reply:
                size = len(reply.read())
            times.append((time.perf_counter() - began) * 1000)
        series = sum(len(f.samples) for f in inst.registry.collect())
        print(f"    {series} samples, {size / 1024:.0f} KiB per scrape")
        return statistics.median(times)
    finally:
        inst.close()
        app.close()


def _many_tasks(app: Taskward) -> None:
    def handler(outcome: str) -> None:
        if outcome == "fail":
            raise ValueError("failed")
        if outcome == "cancel":
            raise Cancel()

    for t in range(TASKS):
        app.task(name=f"task-{t}", max_attempts=1)(handler)
