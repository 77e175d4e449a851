"""The plugins every app has besides its features: retention and the relay's consumers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import sqlalchemy as sa

from taskward.core.clock import Clock
from taskward.core.ports import Emitter
from taskward.core.relay.runner import Consumers
from taskward.core.retention import ArchiveStep, Retention, RetentionPolicy

__all__ = ["ArchiveStep", "RetentionPolicy", "upkeep"]


class _App(Protocol):
    @property
    def engine(self) -> sa.Engine: ...
    @property
    def clock(self) -> Clock: ...


def upkeep(
    app: _App,
    emitter: Emitter,
    retention: RetentionPolicy | None,
    plugins: Sequence[object],
) -> tuple[Retention, Consumers]:
    """Both read ``app.engine`` when a worker starts, so ``use_database`` moves them too.
    A plugin that is also an :class:`ArchiveStep` (the archiver) is the pruner's."""
    archive = next((p for p in plugins if isinstance(p, ArchiveStep)), None)
    engine = lambda: app.engine  # noqa: E731
    policy = retention or RetentionPolicy()
    return (
        Retention(engine, app.clock, emitter, policy, archive),
        Consumers(engine=engine, clock=app.clock),
    )
