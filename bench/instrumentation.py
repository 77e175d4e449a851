"""Instrumentation overhead and scrape cost.

``instrumentation_overhead_pct``: the no-op throughput of ``throughput`` with
metrics, tracing (the real OTel SDK, a ``BatchSpanProcessor`` into an exporter
that discards) and log capture all on, against all off, in the same run:
off and on alternate ``ROUNDS`` times and the medians are compared.
``instrumentation_overhead_without_sdk_pct``: the same with no SDK configured
(spans through the API are non-recording): Taskward's own share of the cost.

``metrics_scrape_ms``: the median time of an HTTP ``GET /metrics`` on an app
with 10 queues and 50 tasks, every task having run jobs of every outcome, and
the collector reading the database on every scrape (TTL 0);
``metrics_scrape_worst_case_ms``: the same with every task run in every queue
(500 pairs: the documented worst case of the series count).
"""

from __future__ import annotations

import statistics
import time
import urllib.request
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import NoOpTracerProvider

from bench.databases import Databases
from bench.results import record
from bench.tasks import NOOP_ASYNC, make_app
from bench.throughput import measure
from taskward.core import Cancel, JobSpec, Taskward
from taskward.core.instrumentation import InstrumentationConfig, MetricsConfig, instrument
from taskward.core.task import EnqueueOptions
from taskward.core.testing import drain

ROUNDS = 3
QUEUES, TASKS = 10, 50
SCRAPES = 20


class Discard(SpanExporter):
    """Exports nowhere: what is measured is Taskward's cost plus the SDK's own."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def instrumented_app(url: str) -> Taskward:
    """The bench app with every signal on (used by the worker subprocesses)."""
    app = make_app(url)
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Discard()))
    instrument(app, tracer_provider=provider)
    return app


def instrumented_app_without_sdk(url: str) -> Taskward:
    """Every signal on, spans through the API alone (what runs when no SDK is configured)."""
    app = make_app(url)
    instrument(app, tracer_provider=NoOpTracerProvider())
    return app


def run(dbs: Databases) -> None:
    factories = {
        "off": None,
        "on": f"{__name__}:instrumented_app",
        "on_without_sdk": f"{__name__}:instrumented_app_without_sdk",
    }
    rates: dict[str, list[float]] = {name: [] for name in factories}
    for _ in range(ROUNDS):  # interleaved, so drift in the machine's load hits all alike
        for name, factory in factories.items():
            rates[name].append(measure(dbs.fresh(), NOOP_ASYNC, app_factory=factory))
    for name, seen in rates.items():
        print(f"    {name}: {[round(x) for x in seen]} jobs/s")
    base, on = statistics.median(rates["off"]), statistics.median(rates["on"])
    without_sdk = statistics.median(rates["on_without_sdk"])
    record("process_instrumented_jobs_per_s", dbs.dialect, on, "jobs/s")
    record("instrumentation_overhead_pct", dbs.dialect, 100 * (base - on) / base, "%")
    overhead = 100 * (base - without_sdk) / base
    record("instrumentation_overhead_without_sdk_pct", dbs.dialect, overhead, "%")
    record("metrics_scrape_ms", dbs.dialect, scrape_ms(dbs.fresh()), "ms")
    worst = scrape_ms(dbs.fresh(), every_queue=True)
    record("metrics_scrape_worst_case_ms", dbs.dialect, worst, "ms")


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
