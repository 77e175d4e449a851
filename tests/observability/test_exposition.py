"""/metrics is prometheus-client's exposition, in both formats, for every metric type."""

from __future__ import annotations

import gzip
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client import generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    InfoMetricFamily,
    Metric,
    StateSetMetricFamily,
    SummaryMetricFamily,
    UnknownMetricFamily,
)
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest
from prometheus_client.registry import Collector
from prometheus_client.samples import Exemplar

from taskward.core import Taskward, current_attempt
from taskward.core.instrumentation import Instrumentation
from taskward.core.testing import drain

OPENMETRICS = "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"


class EveryType(Collector):
    """A user's own families on the app's registry, one of each type the formats know."""

    def collect(self) -> Iterator[Metric]:
        counter = CounterMetricFamily("user_orders", "Orders.", labels=["shop"], created=1.5)
        counter.add_metric(["a\\b"], 3, created=1.5)
        counter.add_sample(
            "user_orders_total",
            {"shop": 'say "hi"\n'},
            4,
            timestamp=1700000000.25,
            exemplar=Exemplar({"trace_id": "abc"}, 1.0, 1700000000.5),
        )
        yield counter
        yield InfoMetricFamily("user_build", "Build.", value={"version": "1.2"})
        yield StateSetMetricFamily("user_mode", "Mode.", value={"on": True, "off": False})
        yield GaugeHistogramMetricFamily(
            "user_depth", "Depth.", buckets=[("1.0", 2), ("+Inf", 5)], gsum_value=7
        )
        yield SummaryMetricFamily("user_latency", "Latency.", count_value=2, sum_value=0.5)
        yield UnknownMetricFamily("user_thing", "Thing.", value=1, unit="seconds")


def _get(port: int, accept: str | None = None, encoding: str | None = None) -> tuple[str, str]:
    headers = {k: v for k, v in (("Accept", accept), ("Accept-Encoding", encoding)) if v}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers=headers)
    with urllib.request.urlopen(request, timeout=5) as reply:
        body = reply.read()
        if reply.headers["Content-Encoding"] == "gzip":
            body = gzip.decompress(body)
        return reply.headers["Content-Type"], body.decode()


def test_every_metric_type_renders_as_the_library_renders_it(
    app: Taskward, inst: Instrumentation
) -> None:
    @app.task(name='odd "name"\\with\nnewline', max_attempts=2)
    def odd() -> None:
        if current_attempt().job.attempt == 1:
            raise ValueError("once")

    odd.enqueue()
    drain(app, with_scheduled=True)
    inst.flush()
    inst.registry.register(EveryType())
    port = inst.serve_metrics(0, "127.0.0.1").port
    # The collector's reading is reused within its TTL, so both renderings see one state.
    text_type, text = _get(port)
    assert text_type.startswith("text/plain; version=0.0.4")
    assert text == generate_latest(inst.registry).decode()
    om_type, om = _get(port, OPENMETRICS, "gzip")
    assert om_type.startswith("application/openmetrics-text; version=1.0.0")
    assert om == openmetrics_latest(inst.registry).decode()
    assert "# TYPE user_build_info gauge" in text and "# TYPE user_build info" in om
    assert 'trace_id="' in om  # the attempt counter's exemplars came through


def test_other_paths_are_not_found(inst: Instrumentation) -> None:
    server = inst.serve_metrics(0, "127.0.0.1")
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"http://127.0.0.1:{server.port}/other", timeout=5)
    assert missing.value.code == 404
    missing.value.close()
