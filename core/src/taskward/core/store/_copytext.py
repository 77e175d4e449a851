"""Job and outbox rows in PostgreSQL's ``COPY`` text format, built as whole chunks of text.

A bulk enqueue spends most of its client time turning values into ``COPY`` data.
psycopg's ``write_row`` adapts each value through its dumper registry (~3 µs a
row); one f-string per row over values whose text form is known (ids as hex,
times in ISO 8601, JSON from :func:`taskward.core._json.dumps`) costs a third of
that, and chunks of rows go to the server while the next chunk is built.

The text format escapes backslash, tab, newline and carriage return with a
backslash; ``\\N`` is NULL. JSON text from our encoder is pure ASCII with every
control character already escaped, so only its backslashes need doubling.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any

from taskward.core._json import dumps
from taskward.core.events import JobEvent
from taskward.core.job import Job
from taskward.core.store._rows import aware_iso, once_each

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
#: Rows per chunk handed to the driver: big enough to amortise the call, small
#: enough that the server works on one chunk while the next is built.
CHUNK_ROWS = 1000


def text(value: str | None) -> str:
    """A text column's field."""
    if value is None:
        return NULL
    return value.translate(_ESCAPES) if _needs_escape(value) else value


def _needs_escape(value: str) -> bool:
    return "\\" in value or "\t" in value or "\n" in value or "\r" in value


def json(value: Any) -> str:
    """A JSON column's field: the encoder's text, backslashes doubled."""
    if value is None:
        return NULL
    if not value and isinstance(value, list | dict):
        return "[]" if isinstance(value, list) else "{}"
    encoded = dumps(value)
    return encoded.replace("\\", "\\\\") if "\\" in encoded else encoded


def number(value: float | None) -> str:
    return NULL if value is None else repr(value)


def _times() -> Callable[[datetime | None], str]:
    """ISO 8601 text of aware datetimes, each distinct object converted once per batch."""
    iso = once_each(aware_iso)
    return lambda value: NULL if value is None else iso(value)


def job_lines(jobs: Iterable[Job]) -> Iterator[str]:
    """Lines of the insert columns (:data:`taskward.core.store._rows.INSERT_COLUMNS`)."""
    time = _times()
    for job in jobs:
        yield (
            f"{job.id.hex}\t{text(job.queue)}\t{text(job.task)}\t{job.state.value}\t"
            f"{json(job.args)}\t{json(job.kwargs)}\t{job.priority}\t{job.attempt}\t"
            f"{job.max_attempts}\t{time(job.scheduled_at)}\t{time(job.inserted_at)}\t"
            f"{json(job.errors)}\t{json(job.tags)}\t{json(job.meta)}\t{text(job.unique_key)}\t"
            f"{number(job.timeout)}\t{text(job.trace_id)}\t{'t' if job.cancel_requested else 'f'}\n"
        )


def event_lines(events: Iterable[JobEvent]) -> Iterator[str]:
    """Lines of the outbox columns (:data:`taskward.core.store._rows.EVENT_COLUMNS`)."""
    time = _times()
    for e in events:
        job = e.job
        yield (
            f"{job.id.hex}\t{e.name}\t{time(e.at)}\t{text(job.queue)}\t{text(job.task)}\t"
            f"{job.state.value}\t{job.attempt}\t{json(e.payload())}\n"
        )


def chunks(lines: Iterator[str], size: int = CHUNK_ROWS) -> Iterator[str]:
    """``lines`` joined ``size`` at a time."""
    while chunk := "".join(islice(lines, size)):
        yield chunk
