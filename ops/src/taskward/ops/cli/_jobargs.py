"""From the command line to a job filter: times, ids (whole or a unique tail), filters."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from taskward.core import JobNotFoundError, Taskward
from taskward.core.store import jobquery
from taskward.core.store.jobquery import JobFilter
from taskward.ops.errors import BadInputError

AGE = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
#: What a table shows of an id (its random end) and what commands accept instead of it.
TAIL = re.compile(r"^…?([0-9a-fA-F]{6,12})$")
TRACE_ID = re.compile(r"^[0-9a-f]{32}$")


def parse_when(flag: str, text: str, now: datetime) -> datetime:
    """An ISO time (UTC unless it says otherwise) or an age before ``now`` (``15m``)."""
    age = AGE.match(text.strip())
    if age:
        return now - timedelta(seconds=float(age[1]) * UNITS[age[2]])
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        expected = "an ISO time (2026-01-31T12:00) or an age (90s, 15m, 2h, 7d)"
        raise BadInputError(flag, f"{text!r}: expected {expected}") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def resolve_id(app: Taskward, text: str) -> uuid.UUID:
    """A whole job id, or the unique job whose id ends in ``text`` (as tables show it)."""
    try:
        return uuid.UUID(text)
    except ValueError:
        pass
    tail = TAIL.match(text.strip())
    if not tail:
        raise JobNotFoundError(text)
    with app.connect() as conn:
        found = jobquery.ids_ending(conn, tail[1])
    if not found:
        raise JobNotFoundError(text)
    if len(found) > 1:
        raise BadInputError("ID", f"{text!r} ends more than one job id: give more of it")
    return found[0]


def job_filter(
    app: Taskward,
    *,
    ids: list[str] | None = None,
    queues: list[str] | None = None,
    tasks: list[str] | None = None,
    states: Sequence[str] | None = None,
    tags: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    error: str | None = None,
    trace_id: str | None = None,
) -> JobFilter:
    now = app.clock.now()
    if trace_id and not TRACE_ID.match(trace_id):
        raise BadInputError("--trace-id", f"{trace_id!r}: expected 32 lowercase hex digits")
    return JobFilter(
        ids=tuple(resolve_id(app, i) for i in ids or ()),
        queues=tuple(queues or ()),
        tasks=tuple(tasks or ()),
        states=tuple(str(s) for s in states or ()),
        tags=tuple(tags or ()),
        since=parse_when("--since", since, now) if since else None,
        until=parse_when("--until", until, now) if until else None,
        error=error or None,
        trace_id=trace_id or None,
    )
