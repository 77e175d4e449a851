"""Retention as a plugin: the leader's ``purge`` loop."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

import sqlalchemy as sa

from taskward.core.clock import Clock
from taskward.core.loops import Loop
from taskward.core.ports import Emitter, LoopHost, Plugin
from taskward.core.retention.policy import RetentionPolicy
from taskward.core.retention.pruner import ArchiveStep, Pruner


class Retention(Plugin):
    """Runs a :class:`Pruner` on the leader every ``policy.interval`` seconds.

    ``engine`` is asked for the app's current engine when a worker starts, so an app
    moved to another database prunes that one.
    """

    name: ClassVar[str] = "retention"

    def __init__(
        self,
        engine: Callable[[], sa.Engine],
        clock: Clock,
        emitter: Emitter,
        policy: RetentionPolicy,
        archive: ArchiveStep | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.emitter = emitter
        self.policy = policy
        self.archive = archive

    def pruner(self) -> Pruner:
        return Pruner(
            self.engine(),
            clock=self.clock,
            emit=self.emitter.emit,
            policy=self.policy,
            archive=self.archive,
        )

    def loops(self, host: LoopHost) -> Sequence[Loop]:
        pruner = self.pruner()
        return [
            Loop(
                "purge",
                self.policy.interval,
                lambda: pruner.run(lambda step: host.offload(step)),
                leader_only=True,
            )
        ]
