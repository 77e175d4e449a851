"""What an attempt hands to the database must be storable on every dialect.

``json.dumps`` is not enough: PostgreSQL's JSONB and text columns reject the
NUL character and lone surrogates. One such value in a settlement batch would
fail the whole batch on every retry, so nothing else could settle. Results and
progress are checked before they leave the handler; error text is escaped.
"""

from __future__ import annotations

import json
from typing import Any

from taskward.core.errors import InvalidJobError


def check_storable(field: str, value: Any) -> None:
    """Raise :class:`InvalidJobError` naming ``field`` unless ``value`` can be stored."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidJobError(field, f"not JSON-serialisable: {exc}") from None
    problem = _bad_text(value)
    if problem:
        raise InvalidJobError(field, f"contains {problem}, which PostgreSQL cannot store")


def storable_text(text: str) -> str:
    """``text`` with NUL characters and lone surrogates escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _bad_text(value: Any) -> str | None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "a NUL character"
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "a lone surrogate"
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return None
