"""Letting a worker's concurrency follow the backlog: grow when jobs wait, shrink when idle.

The signals are the ones the metrics expose per queue: how many jobs are
available now, and how long the oldest of them has waited. A queue grows
(doubling, up to ``max``) while its oldest job has waited ``grow_after``
seconds or more, and shrinks (halving, down to ``min``) while nothing waits
and at most half its slots are busy. Cool-downs keep it from flapping. This
changes only this worker's concurrency; limits still cap every worker together.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from taskward.core import schema
from taskward.core.errors import InvalidLimitError

if TYPE_CHECKING:
    from taskward.core.worker import Worker
    from taskward.core.worker.loops import Loop

log = logging.getLogger("taskward.core.worker")
J = schema.jobs


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


class Autoscaler:
    """Applies each autoscaled queue's :class:`Autoscale` to a worker's claim limits."""

    def __init__(self, worker: Worker, policies: Mapping[str, Autoscale]) -> None:
        unknown = sorted(policies.keys() - worker.runners.keys())
        if unknown:
            raise InvalidLimitError(f"autoscale for queue {unknown[0]!r}, which the worker lacks")
        self.worker = worker
        self.policies = dict(policies)
        self._changed_at: dict[str, datetime] = {}
        for name, policy in self.policies.items():
            worker.runners[name].limit = policy.clamp(worker.runners[name].limit)

    def most(self, queue: str, concurrency: int) -> int:
        """The largest concurrency ``queue`` may reach on this worker."""
        policy = self.policies.get(queue)
        return policy.max if policy is not None else concurrency

    async def step(self) -> None:
        now = self.worker.app.clock.now()
        backlogs = await self.worker.db(self.read, now)
        for name, policy in self.policies.items():
            runner = self.worker.runners[name]
            last = self._changed_at.get(name)
            since = (now - last).total_seconds() if last is not None else None
            wanted = policy.decide(
                runner.limit, backlogs.get(name, Backlog()), runner.running, since
            )
            if wanted != runner.limit:
                log.info("queue %s concurrency %d -> %d", name, runner.limit, wanted)
                runner.limit = wanted
                self._changed_at[name] = now
                runner.wake.set()

    def read(self, now: datetime) -> dict[str, Backlog]:
        """Depth and oldest-job age of the autoscaled queues, in one query."""
        stmt = (
            sa.select(J.c.queue, sa.func.count(), sa.func.min(J.c.scheduled_at))
            .where(
                J.c.state == "available",
                J.c.queue.in_(sorted(self.policies)),
                J.c.scheduled_at <= now,
            )
            .group_by(J.c.queue)
        )
        with self.worker.app.connect() as conn:
            return {
                queue: Backlog(depth, max(0.0, (now - oldest).total_seconds()))
                for queue, depth, oldest in conn.execute(stmt)
            }

    def loops(self) -> list[Loop]:
        from taskward.core.worker.loops import Loop

        interval = min(p.interval for p in self.policies.values())
        return [Loop("autoscale", interval, self.step)]
