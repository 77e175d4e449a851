"""Job states and the one table of allowed transitions.

The machine is Oban's::

    scheduled ─▶ available ─▶ executing ─▶ completed
                    ▲             │
                    │             ├─▶ retryable ─▶ available
                    │             ├─▶ discarded
                    └─────────────┴─▶ cancelled (also from any waiting state)

``TRANSITIONS`` is the single source of truth; the store asserts against it and
the docs are generated from it.
"""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    SCHEDULED = "scheduled"
    AVAILABLE = "available"
    EXECUTING = "executing"
    RETRYABLE = "retryable"
    COMPLETED = "completed"
    DISCARDED = "discarded"
    CANCELLED = "cancelled"


S = JobState

TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    S.SCHEDULED: frozenset({S.AVAILABLE, S.CANCELLED}),
    S.AVAILABLE: frozenset({S.EXECUTING, S.SCHEDULED, S.CANCELLED}),
    # executing -> available: graceful hand-back on shutdown and orphan rescue;
    # executing -> scheduled: snooze.
    S.EXECUTING: frozenset(
        {S.COMPLETED, S.RETRYABLE, S.DISCARDED, S.CANCELLED, S.AVAILABLE, S.SCHEDULED}
    ),
    S.RETRYABLE: frozenset({S.AVAILABLE, S.CANCELLED}),
    # Finished jobs can be retried by an operator.
    S.COMPLETED: frozenset({S.AVAILABLE}),
    S.DISCARDED: frozenset({S.AVAILABLE}),
    S.CANCELLED: frozenset({S.AVAILABLE}),
}

FINISHED: frozenset[JobState] = frozenset({S.COMPLETED, S.DISCARDED, S.CANCELLED})
WAITING: frozenset[JobState] = frozenset({S.SCHEDULED, S.AVAILABLE, S.RETRYABLE})


def can_transition(source: JobState, target: JobState) -> bool:
    return target in TRANSITIONS[source]


def sources_of(target: JobState) -> frozenset[JobState]:
    """Every state from which ``target`` may be entered."""
    return frozenset(s for s, targets in TRANSITIONS.items() if target in targets)
