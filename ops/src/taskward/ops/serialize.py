"""Jobs, events and views as JSON, the one shape scripts (``--output json``) and log lines share."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import datetime
from typing import Any

from taskward.core import Job


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def dumps(value: Any, *, indent: int | None = None) -> str:
    """JSON text; datetimes as ISO 8601, UUIDs as strings."""
    return json.dumps(value, default=_default, indent=indent, ensure_ascii=False)


def plain(value: Any) -> Any:
    """``value`` with only JSON's types left (for YAML, which knows no UUIDs)."""
    return json.loads(dumps(value))


def job_to_json(job: Job) -> dict[str, Any]:
    """Every field of the job, JSON-ready (states as their names)."""
    data: dict[str, Any] = plain(dataclasses.asdict(job))
    return data


def rows_to_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Database rows (outbox events) made JSON-ready."""
    data: list[dict[str, Any]] = plain(rows)
    return data
