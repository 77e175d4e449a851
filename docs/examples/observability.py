"""Metrics, traces and execution logs: instrument an app, scrape /metrics, export traces.

Runs on its own: `python observability.py` (uses $TASKWARD_DATABASE_URL or a temporary
SQLite file; spans go to $OTEL_EXPORTER_OTLP_ENDPOINT, default http://localhost:4318).
"""

import logging
import os
import tempfile
import urllib.request

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from taskward.core import Taskward
from taskward.core.instrumentation import instrument, logs_for
from taskward.core.testing import drain

url = os.environ.get("TASKWARD_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/obs.db"
logging.basicConfig(level=logging.INFO)  # first: capture sees what logging lets through
app = Taskward(url)
app.migrate()

# The OpenTelemetry SDK, once per process (after any fork): spans go to an OTLP endpoint.
provider = TracerProvider(resource=Resource.create({"service.name": "shop-worker"}))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # OTEL_EXPORTER_OTLP_*
trace.set_tracer_provider(provider)

# Metrics, traces and execution logs, before any worker is made; Prometheus scrapes /metrics.
signals = instrument(app)
server = signals.serve_metrics(port=int(os.environ.get("METRICS_PORT", "9464")))

log = logging.getLogger("shop")


@app.task(name="shop.charge", max_attempts=1)
def charge(order: int) -> None:
    log.info("charging order %d", order)
    if order < 0:
        raise ValueError(f"no order {order}")


paid, failed = charge.enqueue(7), charge.enqueue(-1)
drain(app)
signals.flush()  # wait for metrics and logs (tests and scripts only)

# What the failed job logged, attempt by attempt, and the trace that finds it again.
for entry in logs_for(app, failed.id).entries:
    print(entry.attempt, entry.seq, entry.severity_text, entry.message)
trace_id = app.get_job(paid.id).trace_id
print("found by trace id:", [job.id == paid.id for job in app.list_jobs(trace_id=trace_id)])

with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics") as reply:
    for line in reply.read().decode().splitlines():
        if line.startswith("taskward_job_attempts_total{") and not line.endswith(" 0.0"):
            print(line)

provider.shutdown()  # sends the last spans
signals.close()
app.close()
