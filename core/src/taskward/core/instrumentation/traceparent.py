"""Reading a job's W3C ``traceparent`` back into a span context, for links.

The same rules as the API's ``TraceContextTextMapPropagator`` (length cap, format,
no all-zero ids, version ``ff`` invalid, no extra fields in version ``00``), without
the ``Context`` objects a full ``propagate.extract`` builds and throws away: a
recorded attempt span reads one of these per attempt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from opentelemetry.trace import SpanContext, TraceFlags, TraceState

_FORMAT = re.compile(
    r"^[ \t]*([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:(-.*)|[ \t]*)$"
)
_MAX_LENGTH = 512
_MAX_TRACESTATE = 8192


def span_context(meta: Mapping[str, Any]) -> SpanContext | None:
    """The remote span context ``meta`` carries (``traceparent``/``tracestate``), if valid."""
    header = meta.get("traceparent")
    if not isinstance(header, str) or len(header) > _MAX_LENGTH:
        return None
    match = _FORMAT.match(header)
    if match is None:
        return None
    version, trace_id, span_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest):
        return None
    state = meta.get("tracestate")
    context = SpanContext(
        int(trace_id, 16),
        int(span_id, 16),
        is_remote=True,
        trace_flags=TraceFlags(int(flags, 16)),
        trace_state=TraceState.from_header([state])
        if isinstance(state, str) and len(state) <= _MAX_TRACESTATE
        else None,
    )
    return context if context.is_valid else None
