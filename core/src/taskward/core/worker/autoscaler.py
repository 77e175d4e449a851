"""Applying each autoscaled queue's :class:`~taskward.core.limits.autoscale.Autoscale`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from taskward.core.errors import InvalidLimitError
from taskward.core.limits.autoscale import Autoscale, Backlog
from taskward.core.loops import Loop
from taskward.core.ports import Offload, Runtime
from taskward.core.worker.runner import QueueRunner

log = logging.getLogger("taskward.core.worker")


class Autoscaler:
    """Resizes a worker's queue runners from their backlog, within their policies."""

    def __init__(
        self,
        runtime: Runtime,
        runners: Mapping[str, QueueRunner],
        policies: Mapping[str, Autoscale],
    ) -> None:
        unknown = sorted(policies.keys() - runners.keys())
        if unknown:
            raise InvalidLimitError(f"autoscale for queue {unknown[0]!r}, which the worker lacks")
        self._rt = runtime
        self._runners = runners
        self.policies = dict(policies)
        self._changed_at: dict[str, datetime] = {}
        for name, policy in self.policies.items():
            runners[name].resize(policy.clamp(runners[name].limit))

    def most(self, queue: str, concurrency: int) -> int:
        """The largest concurrency ``queue`` may reach on this worker."""
        policy = self.policies.get(queue)
        return policy.max if policy is not None else concurrency

    async def step(self, offload: Offload) -> None:
        now = self._rt.clock.now()
        backlogs = await offload(self.read, now)
        for name, policy in self.policies.items():
            runner = self._runners[name]
            last = self._changed_at.get(name)
            since = (now - last).total_seconds() if last is not None else None
            wanted = policy.decide(
                runner.limit, backlogs.get(name, Backlog()), runner.running, since
            )
            if wanted != runner.limit:
                log.info("queue %s concurrency %d -> %d", name, runner.limit, wanted)
                runner.resize(wanted)
                self._changed_at[name] = now

    def read(self, now: datetime) -> dict[str, Backlog]:
        """Depth and oldest-job age of the autoscaled queues, in one query."""
        with self._rt.connect() as conn:
            rows = self._rt.store.backlogs(conn, sorted(self.policies), now)
        return {
            queue: Backlog(depth, max(0.0, (now - oldest).total_seconds()))
            for queue, (depth, oldest) in rows.items()
        }

    def loops(self, offload: Offload) -> list[Loop]:
        interval = min(p.interval for p in self.policies.values())

        async def step() -> None:
            await self.step(offload)

        return [Loop("autoscale", interval, step)]
