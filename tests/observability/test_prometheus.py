"""A real Prometheus scrapes a running worker; PromQL agrees with the database."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from taskward.core import JobState, Taskward
from taskward.core.instrumentation import InstrumentationConfig, MetricsConfig
from tests.core.worker_support import fast
from tests.observability.conftest import MakeInst
from tests.observability.mix import db_truth, define_mix, enqueue_mix
from tests.services import free_port, unavailable

FINAL = {JobState.COMPLETED, JobState.DISCARDED, JobState.CANCELLED}


class Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url

    def get(self, path: str, **params: str) -> object:
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=5) as reply:
            body = json.load(reply)
        assert body["status"] == "success", body
        return body["data"]

    def by(self, promql: str, label: str) -> dict[str, int]:
        """An instant vector as {label value: value}, zero values left out."""
        data = self.get("/api/v1/query", query=promql)
        out = {}
        for item in data["result"]:  # type: ignore[index]
            value = int(float(item["value"][1]))
            if value:
                out[item["metric"].get(label, "")] = value
        return out


@pytest.fixture
def prometheus_for() -> Iterator[object]:
    """``prometheus_for(port)``: a real Prometheus scraping 127.0.0.1:port every second."""
    binary = shutil.which("prometheus")
    if binary is None:
        unavailable("the prometheus binary is not installed (apt-get install prometheus)")
    procs: list[subprocess.Popen[bytes]] = []
    workdir = Path(tempfile.mkdtemp(prefix="taskward-prom-"))

    def start(target: int) -> Prometheus:
        config = workdir / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            "  - job_name: taskward\n"
            f"    static_configs: [{{targets: ['127.0.0.1:{target}']}}]\n"
        )
        port = free_port()
        with (workdir / "log").open("wb") as log:
            proc = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={workdir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--enable-feature=exemplar-storage",
                ],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as reply:
                    if reply.status == 200:
                        return Prometheus(url)
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((workdir / "log").read_text()[-2000:])
            time.sleep(0.05)

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)
    shutil.rmtree(workdir, ignore_errors=True)


def test_promql_counts_equal_the_database(
    sqlite_database: str,
    make_inst: MakeInst,
    prometheus_for: object,
    spans: InMemorySpanExporter,
) -> None:
    app = Taskward(sqlite_database)
    inst = make_inst(app, InstrumentationConfig(metrics=MetricsConfig(collector_ttl=0.5)))
    define_mix(app)
    server = inst.serve_metrics(0, "127.0.0.1")
    prometheus = prometheus_for(server.port)  # type: ignore[operator]
    worker = app.worker(["default"], **fast())
    thread = threading.Thread(target=asyncio.run, args=(worker.run(),))
    thread.start()
    try:
        jobs = enqueue_mix(app)
        deadline = time.monotonic() + 30
        while {app.get_job(j.id).state for j in jobs} - FINAL:
            assert time.monotonic() < deadline, "the mix did not finish"
            time.sleep(0.05)
        inst.flush()
        truth = db_truth(app)
        expected = {
            "sum by (outcome) (taskward_job_attempts_total)": ("outcome", dict(truth.attempts)),
            "sum by (error_type) (taskward_job_errors_total)": ("error_type", dict(truth.errors)),
            "sum by (state) (taskward_jobs)": ("state", dict(truth.states)),
            "sum(taskward_jobs_inserted_total)": ("", {"": truth.inserted}),
        }
        deadline = time.monotonic() + 60
        while True:
            seen = {q: prometheus.by(q, label) for q, (label, _) in expected.items()}
            if seen == {q: want for q, (_, want) in expected.items()}:
                break
            assert time.monotonic() < deadline, f"PromQL {seen} != database {expected}"
            time.sleep(0.2)
        assert truth.attempts == {"completed": 6, "retryable": 1, "discarded": 2, "cancelled": 1}
        now = time.time()
        exemplars = prometheus.get(
            "/api/v1/query_exemplars",
            query="taskward_job_duration_seconds_bucket",
            start=str(now - 300),
            end=str(now + 60),
        )
        traced = {format(s.context.trace_id, "032x") for s in spans.get_finished_spans()}
        found = {e["labels"]["trace_id"] for series in exemplars for e in series["exemplars"]}
        assert found and found <= traced  # the metrics point at the attempts' traces
    finally:
        worker.request_stop()
        thread.join(30)
        inst.close()
        app.close()
