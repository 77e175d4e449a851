"""How long finished jobs and outbox events are kept: a value the app, or a config file, builds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType

#: The states retention deletes, with their default ages.
PRUNABLE = ("completed", "cancelled", "discarded")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionPolicy:
    """Ages after which finished jobs (by state) and outbox events are deleted.

    ``None`` keeps them for ever. ``queues`` overrides the ages of some states in
    some queues: ``{"billing": {"completed": timedelta(days=30)}}``. A job's age
    runs from ``finished_at``; an event's from its ``at``, and an event is also
    kept until every registered relay consumer has read it.
    """

    #: Completed jobs (with their log records and events).
    completed: timedelta | None = timedelta(hours=24)
    #: Cancelled jobs.
    cancelled: timedelta | None = timedelta(hours=24)
    #: Discarded jobs: kept longer, someone may want to look at why they failed.
    discarded: timedelta | None = timedelta(days=7)
    #: Outbox events, whatever their job (those of pruned jobs go with the job).
    events: timedelta | None = timedelta(days=7)
    #: Seconds between the leader's passes (each runs until nothing is due).
    interval: float = 60.0
    #: Per-queue overrides: queue name -> state -> age (or None: keep).
    queues: Mapping[str, Mapping[str, timedelta | None]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def __post_init__(self) -> None:
        for name in (*PRUNABLE, "events"):
            _check_age(name, getattr(self, name))
        if not isinstance(self.interval, int | float) or self.interval <= 0:
            raise ValueError(f"retention interval: expected seconds > 0, got {self.interval!r}")
        frozen: dict[str, Mapping[str, timedelta | None]] = {}
        for queue, ages in self.queues.items():
            if not isinstance(queue, str) or not queue:
                raise ValueError(f"retention queues: expected queue names, got {queue!r}")
            for state, age in ages.items():
                if state not in PRUNABLE:
                    raise ValueError(
                        f"retention queues.{queue}: unknown state {state!r} "
                        f"(expected one of {', '.join(PRUNABLE)})"
                    )
                _check_age(f"queues.{queue}.{state}", age)
            frozen[queue] = MappingProxyType(dict(ages))
        object.__setattr__(self, "queues", MappingProxyType(frozen))

    def age(self, state: str, queue: str | None = None) -> timedelta | None:
        """How long ``state`` jobs of ``queue`` are kept (None: for ever)."""
        if state not in PRUNABLE:
            raise ValueError(f"retention: {state!r} jobs are never pruned")
        overrides = self.queues.get(queue or "", {})
        if state in overrides:
            return overrides[state]
        age: timedelta | None = getattr(self, state)
        return age


def _check_age(name: str, age: object) -> None:
    if age is None:
        return
    if not isinstance(age, timedelta) or age < timedelta(0):
        raise ValueError(f"retention {name}: expected a duration >= 0 or None, got {age!r}")
