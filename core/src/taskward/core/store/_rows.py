"""Conversions between job rows and :class:`Job` snapshots."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from taskward.core import schema
from taskward.core._json import dumps
from taskward.core.events import JobEvent
from taskward.core.job import Job
from taskward.core.states import JobState

#: The jobs table's columns in :class:`Job` field order: select these, then
#: :func:`job_from_row` builds the snapshot from the row by position.
JOB_COLUMNS = tuple(schema.jobs.c[f.name] for f in fields(Job))
_STATES = {state.value: state for state in JobState}


def job_from_row(row: Sequence[Any]) -> Job:
    """The snapshot of a row of :data:`JOB_COLUMNS`."""
    return Job(row[0], row[1], row[2], _STATES[row[3]], *row[4:])


UPDATE_COLUMNS = (
    "state",
    "attempt",
    "scheduled_at",
    "attempted_at",
    "finished_at",
    "attempted_by",
    "errors",
    "result",
    "progress",
    "unique_key",
    "cancel_requested",
)
INSERT_COLUMNS = (
    "id",
    "queue",
    "task",
    "state",
    "args",
    "kwargs",
    "priority",
    "attempt",
    "max_attempts",
    "scheduled_at",
    "inserted_at",
    "errors",
    "tags",
    "meta",
    "unique_key",
    "timeout",
    "trace_id",
    "cancel_requested",
)
EVENT_COLUMNS = ("job_id", "name", "at", "queue", "task", "state", "attempt", "data")


def insert_values(job: Job) -> dict[str, Any]:
    """A new job's columns as SQLAlchemy takes them (the unique-key insert path)."""
    values = {column: getattr(job, column) for column in INSERT_COLUMNS}
    values["state"] = job.state.value
    return values


@dataclass(frozen=True, slots=True)
class RowCodec:
    """Job and outbox rows as the driver takes them, a batch at a time.

    The batched writes (bulk insert, settlements, the outbox) bypass SQLAlchemy's
    per-value type processing, which costs more than the database work itself on
    a queue's hot path. The values are the ones the column types would produce
    (a :class:`JobState` is a ``str`` whose text is its value, and goes as it is):
    ``uuid``, ``time`` and ``json`` say how the driver wants ids, aware datetimes
    and JSON values (by default JSON text from :func:`taskward.core._json.dumps`).
    A batch shares few distinct datetimes (one ``now``, one claim time), so each
    is converted once per batch.
    """

    uuid: Callable[[uuid.UUID], Any]
    time: Callable[[datetime], Any]
    json: Callable[[Any], Any] = dumps

    def jobs(self, jobs: Iterable[Job]) -> list[tuple[Any, ...]]:
        """Rows of :data:`INSERT_COLUMNS`."""
        uid, time, json = self.uuid, once_each(self.time), self.json
        return [
            (
                uid(job.id),
                job.queue,
                job.task,
                job.state,
                json(job.args),
                json(job.kwargs),
                job.priority,
                job.attempt,
                job.max_attempts,
                time(job.scheduled_at),
                time(job.inserted_at),
                json(job.errors),
                json(job.tags),
                json(job.meta),
                job.unique_key,
                job.timeout,
                job.trace_id,
                job.cancel_requested,
            )
            for job in jobs
        ]

    def updates(self, jobs: Iterable[Job]) -> list[tuple[Any, ...]]:
        """Rows of :data:`UPDATE_COLUMNS`, then the id."""
        uid, time, json = self.uuid, once_each(self.time), self.json
        return [
            (
                job.state,
                job.attempt,
                time(job.scheduled_at),
                time(job.attempted_at),
                time(job.finished_at),
                job.attempted_by,
                json(job.errors),
                json(job.result),
                json(job.progress),
                job.unique_key,
                job.cancel_requested,
                uid(job.id),
            )
            for job in jobs
        ]

    def events(self, events: Iterable[JobEvent]) -> list[tuple[Any, ...]]:
        """Rows of :data:`EVENT_COLUMNS`."""
        uid, time, json = self.uuid, once_each(self.time), self.json
        return [
            (
                uid(e.job.id),
                e.name,
                time(e.at),
                e.job.queue,
                e.job.task,
                e.job.state,
                e.job.attempt,
                json(e.payload()),
            )
            for e in events
        ]


def once_each(convert: Callable[[datetime], Any]) -> Callable[[datetime | None], Any]:
    """``convert``, remembering its answer for each datetime object it has seen."""
    seen: dict[int, tuple[datetime, Any]] = {}

    def time(value: datetime | None) -> Any:
        if value is None:
            return None
        hit = seen.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        converted = convert(value)
        seen[id(value)] = (value, converted)
        return converted

    return time


def aware_iso(value: datetime) -> str:
    """ISO 8601 text of an aware datetime; a naive one is refused, never guessed at."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: Taskward stores aware UTC times")
    return value.isoformat()
