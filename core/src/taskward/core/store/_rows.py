"""Conversions between job rows and :class:`Job` snapshots."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping

from taskward.core._json import dumps
from taskward.core.events import JobEvent
from taskward.core.job import Job
from taskward.core.states import JobState


def job_from_row(row: RowMapping) -> Job:
    return Job(
        id=row["id"],
        queue=row["queue"],
        task=row["task"],
        state=JobState(row["state"]),
        args=row["args"],
        kwargs=row["kwargs"],
        priority=row["priority"],
        attempt=row["attempt"],
        max_attempts=row["max_attempts"],
        scheduled_at=row["scheduled_at"],
        inserted_at=row["inserted_at"],
        attempted_at=row["attempted_at"],
        finished_at=row["finished_at"],
        attempted_by=row["attempted_by"],
        errors=row["errors"],
        result=row["result"],
        progress=row["progress"],
        tags=row["tags"],
        meta=row["meta"],
        unique_key=row["unique_key"],
        timeout=row["timeout"],
        trace_id=row["trace_id"],
        cancel_requested=row["cancel_requested"],
    )


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
    """Job and outbox rows as the driver takes them, in one pass per row.

    The batched writes (bulk insert, settlements, the outbox) bypass SQLAlchemy's
    per-value type processing, which costs more than the database work itself on
    a queue's hot path. The values are the ones the column types would produce:
    ``uuid``, ``time`` and ``json`` say how the driver wants ids, aware datetimes
    and JSON values (by default JSON text from :func:`taskward.core._json.dumps`).
    """

    uuid: Callable[[uuid.UUID], Any]
    time: Callable[[datetime], Any]
    json: Callable[[Any], Any] = dumps

    def job(self, job: Job) -> tuple[Any, ...]:
        """Values for :data:`INSERT_COLUMNS`."""
        time, json = self.time, self.json
        return (
            self.uuid(job.id),
            job.queue,
            job.task,
            job.state.value,
            json(job.args),
            json(job.kwargs),
            job.priority,
            job.attempt,
            job.max_attempts,
            time(job.scheduled_at) if job.scheduled_at is not None else None,
            time(job.inserted_at) if job.inserted_at is not None else None,
            json(job.errors),
            json(job.tags),
            json(job.meta),
            job.unique_key,
            job.timeout,
            job.trace_id,
            job.cancel_requested,
        )

    def update(self, job: Job) -> tuple[Any, ...]:
        """Values for :data:`UPDATE_COLUMNS`, then the id."""
        time, json = self.time, self.json
        return (
            job.state.value,
            job.attempt,
            time(job.scheduled_at) if job.scheduled_at is not None else None,
            time(job.attempted_at) if job.attempted_at is not None else None,
            time(job.finished_at) if job.finished_at is not None else None,
            job.attempted_by,
            json(job.errors),
            json(job.result),
            json(job.progress),
            job.unique_key,
            job.cancel_requested,
            self.uuid(job.id),
        )

    def event(self, event: JobEvent) -> tuple[Any, ...]:
        """Values for :data:`EVENT_COLUMNS`."""
        job = event.job
        return (
            self.uuid(job.id),
            event.name,
            self.time(event.at),
            job.queue,
            job.task,
            job.state.value,
            job.attempt,
            self.json(event.payload()),
        )
