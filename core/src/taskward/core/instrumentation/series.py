"""The label values each (queue, task) pair records under, built once per pair."""

from __future__ import annotations

from dataclasses import dataclass

from taskward.core.events import (
    Event,
    JobCancelled,
    JobCompleted,
    JobDiscarded,
    JobFailed,
    JobRetryScheduled,
)
from taskward.core.instrumentation.families import Labels

#: Attempt outcome and duration ``outcome`` label of each finish event.
_OUTCOMES: dict[type[Event], tuple[str, str]] = {
    JobCompleted: ("completed", "completed"),
    JobFailed: ("retryable", "failed"),
    JobRetryScheduled: ("retryable", "failed"),
    JobDiscarded: ("discarded", "failed"),
    JobCancelled: ("cancelled", "cancelled"),
}
WITH_ERROR = (JobFailed, JobDiscarded)


@dataclass(frozen=True, slots=True)
class Series:
    """The label values one (queue, task) records under, built once, not per event."""

    pair: Labels
    wait: Labels
    attempts: dict[type[Event], Labels]
    duration: dict[type[Event], Labels]

    @classmethod
    def of(cls, queue: str, task: str, *, task_label: bool) -> Series:
        hist = (queue, task) if task_label else (queue,)
        return cls(
            pair=(queue, task),
            wait=hist,
            attempts={kind: (queue, task, o) for kind, (o, _) in _OUTCOMES.items()},
            duration={kind: (*hist, timing) for kind, (_, timing) in _OUTCOMES.items()},
        )
