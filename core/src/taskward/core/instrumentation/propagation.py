"""A job's enqueue context, read back through the configured OpenTelemetry propagator.

The producer hook injects with ``propagate.inject`` into ``job.meta``; reading
goes through the same global propagator (``OTEL_PROPAGATORS`` or
``propagate.set_global_textmap``), so B3, Jaeger or a composite link jobs to
their producers as W3C ``traceparent`` does. Meta is also the user's JSON: only
text values are offered to the propagator, so an odd value is no header, never
an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanContext


class _MetaGetter(Getter[Mapping[str, Any]]):
    """A job's meta as a carrier: its text values only."""

    def get(self, carrier: Mapping[str, Any], key: str) -> list[str] | None:
        value = carrier.get(key)
        return [value] if isinstance(value, str) else None

    def keys(self, carrier: Mapping[str, Any]) -> list[str]:
        return [key for key, value in carrier.items() if isinstance(value, str)]


_META = _MetaGetter()


def enqueue_context(meta: Mapping[str, Any]) -> otel_context.Context:
    """The context the job was enqueued in (its span as a remote parent, its baggage)."""
    return propagate.extract(meta, getter=_META)


def enqueue_link(
    meta: Mapping[str, Any], extracted: otel_context.Context | None = None
) -> SpanContext | None:
    """The enqueue span to link to, if ``meta`` carries a valid one (``extracted``: the
    context already read from it, to read it once)."""
    context = extracted if extracted is not None else enqueue_context(meta)
    span = trace.get_current_span(context).get_span_context()
    return span if span.is_valid else None
