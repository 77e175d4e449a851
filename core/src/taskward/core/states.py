"""Job states and the one table of allowed transitions.

The machine is Oban's::

    scheduled ─▶ available ─▶ executing ─▶ completed
                    ▲             │
                    │             ├─▶ retryable ─▶ available
                    │             ├─▶ discarded
                    └─────────────┴─▶ cancelled (also from any waiting state)

``TRANSITIONS`` is the single source of truth, and the store enforces it: every
job snapshot it writes is applied only if the row's current state may move to
the new one (checked in the same UPDATE, under the row's lock), else the whole
write fails with :class:`IllegalTransitionError`; its claim and stage statements
are checked against the table when they are built.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from taskward.core.errors import IllegalTransitionError


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


#: Every allowed (source, target) pair, for the store's check.
ALLOWED: frozenset[tuple[JobState, JobState]] = frozenset(
    (source, target) for source, targets in TRANSITIONS.items() for target in targets
)


def check_transitions(sources: Iterable[JobState], target: JobState) -> None:
    """Raise :class:`IllegalTransitionError` unless every ``source -> target`` is allowed."""
    for source in sorted(sources):
        if (source, target) not in ALLOWED:
            raise IllegalTransitionError([f"{source} -> {target}"])
