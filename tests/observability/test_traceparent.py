"""Links read a job's ``traceparent`` as the API's W3C propagator would."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from taskward.core.instrumentation.traceparent import span_context

TRACE, SPAN = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
CARRIERS = [
    {"traceparent": f"00-{TRACE}-{SPAN}-01"},
    {"traceparent": f"00-{TRACE}-{SPAN}-00"},
    {"traceparent": f" \t00-{TRACE}-{SPAN}-01 "},
    {"traceparent": f"00-{TRACE}-{SPAN}-01", "tracestate": "vendor=a,other=b"},
    {"traceparent": f"01-{TRACE}-{SPAN}-01-future-fields"},
    {"traceparent": f"00-{TRACE}-{SPAN}-01-extra"},
    {"traceparent": f"ff-{TRACE}-{SPAN}-01"},
    {"traceparent": f"00-{'0' * 32}-{SPAN}-01"},
    {"traceparent": f"00-{TRACE}-{'0' * 16}-01"},
    {"traceparent": f"00-{TRACE.upper()}-{SPAN}-01"},
    {"traceparent": f"00-{TRACE}-{SPAN}-01" + " " * 600},
    {"traceparent": "garbage"},
    {"traceparent": 42},
    {"tracestate": "vendor=a"},
    {},
]


@pytest.mark.parametrize("meta", CARRIERS)
def test_the_link_is_what_the_w3c_propagator_extracts(meta: dict[str, object]) -> None:
    carrier = {k: v for k, v in meta.items() if isinstance(v, str)}
    extracted = trace.get_current_span(TraceContextTextMapPropagator().extract(carrier))
    expected = extracted.get_span_context()
    assert span_context(meta) == (expected if expected.is_valid else None)
