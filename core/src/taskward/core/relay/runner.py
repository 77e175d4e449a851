"""Consumers a worker runs: the leader reads each registered consumer's events and hands
them to its handler, acknowledging each batch once the handler returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

import sqlalchemy as sa

from taskward.core.clock import Clock
from taskward.core.loops import Loop
from taskward.core.ports import LoopHost, Plugin
from taskward.core.relay.consumer import EventRelay
from taskward.core.relay.events import OutboxEvent
from taskward.core.relay.reader import DEFAULT_BATCH

Handler = Callable[[list[OutboxEvent]], object]


@dataclass(frozen=True, slots=True, kw_only=True)
class Consumer:
    """A named consumer and what to do with its events (see ``Taskward.consume``)."""

    name: str
    handle: Handler
    batch: int = DEFAULT_BATCH
    start: Literal["earliest", "latest"] = "latest"


class ConsumerRunner:
    """Runs one :class:`Consumer` in steps: each reads until caught up (bounded)."""

    def __init__(self, engine: sa.Engine, consumer: Consumer, clock: Clock) -> None:
        self.engine = engine
        self.consumer = consumer
        self.clock = clock
        self._relay: EventRelay | None = None

    def step(self) -> int:
        """Handle what has been committed since the last step; the events handled."""
        c = self.consumer
        if self._relay is None:  # registered on first use, in the database thread
            self._relay = EventRelay(
                self.engine, c.name, batch=c.batch, start=c.start, clock=self.clock
            )
        return self._relay.drain(c.handle)


class Consumers(Plugin):
    """The app's registered consumers, each run by the leader as loop ``relay:<name>``
    every ``host.interval`` seconds (``engine`` gives the app's current engine)."""

    name: ClassVar[str] = "relay"

    def __init__(self, *, engine: Callable[[], sa.Engine], clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self.registered: list[Consumer] = []

    def consume(
        self,
        name: str,
        handle: Handler,
        *,
        batch: int = DEFAULT_BATCH,
        start: Literal["earliest", "latest"] = "latest",
    ) -> Consumer:
        """Have the workers' leader hand every committed event to ``handle``, a batch at
        a time, as durable consumer ``name`` (at least once: a batch is acknowledged
        when ``handle`` returns; one that raised is read again)."""
        consumer = Consumer(name=name, handle=handle, batch=batch, start=start)
        if any(c.name == name for c in self.registered):
            raise ValueError(f"event consumer {consumer.name!r} is already registered")
        self.registered.append(consumer)
        return consumer

    def loops(self, host: LoopHost) -> Sequence[Loop]:
        return [_loop(host, ConsumerRunner(self.engine(), c, self.clock)) for c in self.registered]


def _loop(host: LoopHost, runner: ConsumerRunner) -> Loop:
    name = f"relay:{runner.consumer.name}"
    return Loop(name, host.interval, lambda: host.offload(runner.step), leader_only=True)
