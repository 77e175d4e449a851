"""The job as the rest of the program sees it: an immutable snapshot of one row."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from taskward.core.states import JobState


@dataclass(frozen=True, slots=True)
class Job:
    """One job row. Snapshots are values: a changed job is a new snapshot."""

    id: uuid.UUID
    queue: str
    task: str
    state: JobState
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    priority: int = 0
    attempt: int = 0
    max_attempts: int = 20
    scheduled_at: datetime | None = None
    inserted_at: datetime | None = None
    attempted_at: datetime | None = None
    finished_at: datetime | None = None
    attempted_by: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    result: Any = None
    progress: dict[str, Any] | None = None
    tags: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    unique_key: str | None = None
    timeout: float | None = None
    trace_id: str | None = None
    cancel_requested: bool = False

    def evolve(self, **changes: Any) -> Job:
        return replace(self, **changes)

    @property
    def runnable_at(self) -> datetime | None:
        """When the job became runnable: later of insert and schedule time."""
        if self.inserted_at is None or self.scheduled_at is None:
            return self.scheduled_at or self.inserted_at
        return max(self.inserted_at, self.scheduled_at)
