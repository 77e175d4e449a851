"""Fast JSON for the hot paths (job rows, outbox rows, argument checks).

``json.dumps`` builds a new C encoder on every call; on the queue's hot path that
set-up costs several times the encoding of a small value. One encoder is made
here and reused. Its output is exactly ``json.dumps(value, allow_nan=False)``.
Without the circular-reference check a cyclic value ends in ``RecursionError``,
which :func:`dumps` reports as the ``ValueError`` ``json.dumps`` would raise.

:func:`loads` calls the C scanner directly (``json.loads`` adds encoding
detection and a whitespace regex around it) and falls back to the full decoder
for anything but one JSON value filling the whole text.
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from typing import Any

__all__ = ["dumps", "loads"]


def _refuse(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_quote: Callable[[str], str] = json.encoder.encode_basestring_ascii
# The C speed-ups the stdlib uses, not in typeshed: encoder factory and value scanner.
_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
_encode: Callable[[Any, int], Any] | None = (
    _make_encoder(None, _refuse, _quote, None, ": ", ", ", False, False, False)
    if _make_encoder is not None
    else None
)
_fallback = json.JSONEncoder(allow_nan=False).encode
_decoder = json.JSONDecoder()
_scan: Callable[[str, int], tuple[Any, int]] = _decoder.scan_once  # type: ignore[attr-defined]


def dumps(value: Any) -> str:
    """``json.dumps(value, allow_nan=False)``, several times faster on small values."""
    if _encode is None:  # pragma: no cover - CPython always has the C speedups
        return _fallback(value)
    if isinstance(value, str):
        return _quote(value)
    try:
        return "".join(_encode(value, 0))
    except RecursionError:
        raise ValueError("Circular reference detected (or nesting too deep)") from None


def loads(data: str | bytes | bytearray | memoryview) -> Any:
    """``json.loads(data)`` for text or UTF-8 bytes, faster on the short values of job rows."""
    if isinstance(data, str):
        text = data
    elif isinstance(data, bytes | bytearray | memoryview):
        text = bytes(data).decode()
    else:  # TypeError, as json.loads: SQLAlchemy's SQLite JSON type then keeps bare numbers
        raise TypeError(f"the JSON object must be str or bytes, not {type(data).__name__}")
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        return _decoder.decode(text)  # leading whitespace, or not JSON: let it say why
    return value if end == len(text) else _decoder.decode(text)
