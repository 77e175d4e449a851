"""``[instrumentation]`` applied: spans reach a real OTLP endpoint as configured."""

from __future__ import annotations

import contextlib
from pathlib import Path

from taskward.core import Taskward
from taskward.core.testing import drain
from taskward.ops.config import load_settings
from taskward.ops.config.signals import instrument_app
from tests.observability.test_tracing_otlp import Receiver, attrs, receiver  # noqa: F401


def run_one_job(url: str, tmp_path: Path, tracing: str, **env: str) -> None:
    path = tmp_path / "taskward.toml"
    path.write_text(f'[instrumentation]\nservice_name = "billing-workers"\n{tracing}')
    config = load_settings(path, environ=env)
    with contextlib.closing(Taskward(url)) as app:

        @app.task(name="t.add")
        def add(a: int, b: int) -> int:
            return a + b

        signals = instrument_app(app, config)
        try:
            add.enqueue(1, 2)
            drain(app)
        finally:
            signals.close()  # flushes the exporter


def test_otlp_exporter_sends_spans_with_secret_headers(
    sqlite_database: str,
    tmp_path: Path,
    receiver: Receiver,  # noqa: F811
) -> None:
    port = receiver.server_address[1]
    tracing = (
        '[instrumentation.tracing]\nexporter = "otlp"\n'
        f'endpoint = "http://127.0.0.1:{port}/v1/traces"\n'
        'headers = { x-api-key = "${OTEL_KEY}" }\n'
    )
    run_one_job(sqlite_database, tmp_path, tracing, OTEL_KEY="k-123")
    names = {span.name for span in receiver.spans}
    assert {"send default", "process default"} <= names, names
    assert any(attrs(s).get("messaging.destination.name") == "default" for s in receiver.spans)


def test_sampling_zero_keeps_no_trace(
    sqlite_database: str,
    tmp_path: Path,
    receiver: Receiver,  # noqa: F811
) -> None:
    port = receiver.server_address[1]
    tracing = (
        '[instrumentation.tracing]\nexporter = "otlp"\nsampling = 0\n'
        f'endpoint = "http://127.0.0.1:{port}/v1/traces"\n'
    )
    run_one_job(sqlite_database, tmp_path, tracing)
    assert receiver.spans == []
