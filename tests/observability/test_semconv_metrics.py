"""The opt-in semconv mirror: the real OTel SDK's MeterProvider reads what the events said."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from taskward.core import Taskward
from taskward.core.instrumentation import InstrumentationConfig, MetricsConfig, instrument
from taskward.core.testing import drain


def _points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    data = reader.get_metrics_data()
    assert data is not None
    return {
        metric.name: list(metric.data.data_points)
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }


def test_the_mirror_counts_what_the_events_say(app: Taskward) -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    config = InstrumentationConfig(metrics=MetricsConfig(semconv_mirror=True, collector=False))
    inst = instrument(app, tracing=False, logs=False, config=config, meter_provider=provider)

    @app.task(queue="mail", max_attempts=1)
    def send(ok: bool) -> None:
        if not ok:
            raise ValueError("bounced")

    send.enqueue_many([(True,), (True,), (False,)])
    drain(app, ["mail"])
    inst.flush()
    points = _points(reader)
    inst.close()
    provider.shutdown()

    (sent,) = points["messaging.client.sent.messages"]
    assert sent.value == 3
    assert sent.attributes == {
        "messaging.system": "taskward",
        "messaging.operation.type": "send",
        "messaging.operation.name": "enqueue",
        "messaging.destination.name": "mail",
    }
    consumed = {
        p.attributes.get("error.type"): p.value
        for p in points["messaging.client.consumed.messages"]
    }
    assert consumed == {None: 2, "ValueError": 1}
    durations = {
        p.attributes.get("error.type"): p.count for p in points["messaging.process.duration"]
    }
    assert durations == {None: 2, "ValueError": 1}
    claims = points["messaging.client.operation.duration"]
    assert sum(p.count for p in claims) >= 1
    assert {p.attributes["messaging.operation.type"] for p in claims} == {"receive"}


def test_the_mirror_is_off_by_default(app: Taskward) -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    inst = instrument(app, tracing=False, logs=False, meter_provider=provider)

    @app.task
    def noop() -> None: ...

    noop.enqueue()
    drain(app)
    inst.flush()
    data = reader.get_metrics_data()
    inst.close()
    provider.shutdown()
    assert data is None or not data.resource_metrics
