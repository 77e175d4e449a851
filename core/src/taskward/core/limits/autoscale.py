"""Letting a worker's concurrency follow the backlog: grow when jobs wait, shrink when idle.

The signals are the ones the metrics expose per queue: how many jobs are
available now, and how long the oldest of them has waited. A queue grows
(doubling, up to ``max``) while its oldest job has waited ``grow_after``
seconds or more, and shrinks (halving, down to ``min``) while nothing waits
and at most half its slots are busy. Cool-downs keep it from flapping. This
changes only this worker's concurrency; limits still cap every worker together.
The worker applies these policies (:mod:`taskward.core.worker.autoscaler`).
"""

from __future__ import annotations

from dataclasses import dataclass

from taskward.core.errors import InvalidLimitError


@dataclass(frozen=True, slots=True)
class Backlog:
    """Jobs of a queue available now, and how long the oldest has waited (seconds)."""

    depth: int = 0
    oldest_age: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Autoscale:
    """A queue's concurrency range on one worker, and how eagerly it moves within it."""

    min: int
    max: int
    #: Grow while the oldest available job has waited at least this long (seconds).
    grow_after: float = 1.0
    #: Seconds after any change before growing again.
    grow_cooldown: float = 10.0
    #: Seconds after any change before shrinking.
    shrink_cooldown: float = 60.0
    #: How often the signals are read (seconds).
    interval: float = 5.0

    def __post_init__(self) -> None:
        if not isinstance(self.min, int) or not isinstance(self.max, int) or not self.min >= 1:
            raise InvalidLimitError(f"autoscale min must be a positive integer, got {self.min!r}")
        if self.max < self.min:
            raise InvalidLimitError(f"autoscale max {self.max} is below min {self.min}")
        if min(self.grow_after, self.grow_cooldown, self.shrink_cooldown) < 0 or self.interval <= 0:
            raise InvalidLimitError("autoscale times must not be negative (interval positive)")

    def clamp(self, concurrency: int) -> int:
        return max(self.min, min(self.max, concurrency))

    def decide(
        self, current: int, backlog: Backlog, running: int, since_change: float | None
    ) -> int:
        """The concurrency to run at now (``since_change``: seconds since the last change)."""

        def cooled(cooldown: float) -> bool:
            return since_change is None or since_change >= cooldown

        if backlog.depth and backlog.oldest_age >= self.grow_after and current < self.max:
            return min(self.max, current * 2) if cooled(self.grow_cooldown) else current
        if not backlog.depth and running <= current // 2 and current > self.min:
            return max(self.min, current // 2) if cooled(self.shrink_cooldown) else current
        return current
