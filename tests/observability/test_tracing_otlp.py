"""The same spans through the real OTLP/HTTP exporter to a loopback receiver."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from taskward.core import Taskward
from taskward.core.instrumentation import instrument
from taskward.core.testing import drain


class Receiver(ThreadingHTTPServer):
    """An OTLP/HTTP trace endpoint that keeps every decoded span."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.spans: list[Span] = []
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        with self.server.lock:
            for resource in request.resource_spans:
                for scope in resource.scope_spans:
                    self.server.spans.extend(scope.spans)
        reply = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200 if self.path == "/v1/traces" else 404)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def attrs(span: Span) -> dict[str, object]:
    out: dict[str, object] = {}
    for kv in span.attributes:
        value = kv.value
        out[kv.key] = getattr(value, value.WhichOneof("value") or "string_value")
    return out


def test_spans_reach_an_otlp_endpoint_with_links_and_status(
    app: Taskward, receiver: Receiver
) -> None:
    port = receiver.server_address[1]
    provider = TracerProvider()
    exporter = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{port}/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter))
    inst = instrument(app, tracer_provider=provider)
    try:

        @app.task(max_attempts=1)
        def charge(amount: int) -> None:
            if amount < 0:
                raise ValueError("negative amount")

        jobs = charge.enqueue_many([(10,), (20,), (-1,)])
        drain(app)
        assert provider.force_flush(10_000)
    finally:
        inst.close()
        provider.shutdown()
    with receiver.lock:
        spans = list(receiver.spans)
    (producer,) = [s for s in spans if s.kind == Span.SPAN_KIND_PRODUCER]
    assert producer.name == "send default"
    assert attrs(producer)["messaging.batch.message_count"] == 3
    consumers = {
        attrs(s)["messaging.message.id"]: s for s in spans if s.kind == Span.SPAN_KIND_CONSUMER
    }
    assert set(consumers) == {str(j.id) for j in jobs}
    assert len(spans) == 4
    for consumer in consumers.values():
        assert consumer.name == "process default"
        assert [link.span_id for link in consumer.links] == [producer.span_id]
        assert consumer.trace_id != producer.trace_id
    failed = consumers[str(jobs[2].id)]
    assert failed.status.code == Status.STATUS_CODE_ERROR
    assert attrs(failed)["error.type"] == "ValueError"
    assert attrs(failed)["taskward.job.outcome"] == "discarded"
    assert consumers[str(jobs[0].id)].status.code == Status.STATUS_CODE_UNSET
    stored = app.get_job(jobs[2].id)
    assert stored.errors[0]["trace_id"] == failed.trace_id.hex()
    assert stored.trace_id == producer.trace_id.hex()
