"""Conversions between job rows and :class:`Job` snapshots."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping

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


def insert_values(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "queue": job.queue,
        "task": job.task,
        "state": job.state.value,
        "args": job.args,
        "kwargs": job.kwargs,
        "priority": job.priority,
        "attempt": job.attempt,
        "max_attempts": job.max_attempts,
        "scheduled_at": job.scheduled_at,
        "inserted_at": job.inserted_at,
        "errors": job.errors,
        "tags": job.tags,
        "meta": job.meta,
        "unique_key": job.unique_key,
        "timeout": job.timeout,
        "trace_id": job.trace_id,
        "cancel_requested": False,
    }


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


def update_values(job: Job) -> dict[str, Any]:
    """The columns a transition may change, keyed for the batched UPDATE."""
    values = {column: getattr(job, column) for column in UPDATE_COLUMNS}
    values["b_id"] = job.id
    return values


def event_values(event: JobEvent) -> dict[str, Any]:
    job = event.job
    return {
        "job_id": job.id,
        "name": event.name,
        "at": event.at,
        "queue": job.queue,
        "task": job.task,
        "state": job.state.value,
        "attempt": job.attempt,
        "data": event.payload(),
    }
