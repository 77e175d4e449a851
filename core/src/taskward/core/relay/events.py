"""An event as the relay delivers it: one outbox row, decoded, with its place in the outbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from taskward.core.store.outbox import Position


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxEvent:
    """A committed lifecycle event read from the outbox.

    ``name`` is the event's catalogue name (``taskward.job.completed``, see
    :mod:`taskward.core.events`); ``state`` and ``attempt`` are the job's after
    the transition; ``data`` is the event's extra payload (its ``payload()``).
    ``id`` is unique and what a client resumes from (an SSE ``Last-Event-ID``).
    """

    id: int
    name: str
    at: datetime
    job_id: uuid.UUID | None
    queue: str | None
    task: str | None
    state: str | None
    attempt: int | None
    data: dict[str, Any]
    position: Position

    @classmethod
    def from_row(cls, row: sa.Row[Any]) -> OutboxEvent:
        event_id, name, at, job_id, queue, task, state, attempt, data, txid = tuple(row)
        return cls(
            id=event_id,
            name=name,
            at=at,
            job_id=job_id,
            queue=queue,
            task=task,
            state=state,
            attempt=attempt,
            data=data,
            position=Position(txid or 0, event_id),
        )

    def as_dict(self) -> dict[str, Any]:
        """A stable, JSON-safe dict (the shape of the API's live feed)."""
        return {
            "id": self.id,
            "name": self.name,
            "at": self.at.isoformat(),
            "job_id": str(self.job_id) if self.job_id else None,
            "queue": self.queue,
            "task": self.task,
            "state": self.state,
            "attempt": self.attempt,
            "data": self.data,
        }
