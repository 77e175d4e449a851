"""A named, durable consumer of the outbox: its cursor lives in the database.

Any process on any host can read as consumer ``name``; what it acknowledges is
kept, so a consumer that is stopped or killed resumes after its last ``ack``.
Delivery is at least once: events read and not yet acknowledged when a reader
dies are read again. Consumers are independent (one cursor each), read with
plain ``SELECT``\\ s and never lock what workers write, so a slow one never slows
the queue. The pruner keeps every event a registered consumer has not passed;
:meth:`EventRelay.unregister` a consumer you retire.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import sqlalchemy as sa

from taskward.core.clock import Clock, SystemClock
from taskward.core.relay.events import OutboxEvent
from taskward.core.relay.reader import DEFAULT_BATCH, EventReader
from taskward.core.store.outbox import START, Position

MAX_NAME = 128


class EventRelay(EventReader):
    """Consumer ``name``: :meth:`read` a batch, handle it, :meth:`ack` it.

    A consumer seen for the first time starts at ``start``: ``"latest"`` (only
    events committed from now on) or ``"earliest"`` (every event still kept).
    Afterwards its stored cursor wins.
    """

    def __init__(
        self,
        engine: sa.Engine,
        name: str,
        *,
        batch: int = DEFAULT_BATCH,
        start: Literal["earliest", "latest"] = "latest",
        poll_interval: float = 1.0,
        clock: Clock | None = None,
    ) -> None:
        if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME:
            raise ValueError(f"consumer name: expected 1 to {MAX_NAME} characters, got {name!r}")
        if start not in ("earliest", "latest"):
            raise ValueError(f"start: expected 'earliest' or 'latest', got {start!r}")
        super().__init__(engine, batch=batch, poll_interval=poll_interval)
        self.name = name
        self.clock = clock or SystemClock()
        with engine.begin() as conn:
            at = self.outbox.head(conn) if start == "latest" else START
            self.position = self.outbox.register(conn, name, at, self.clock.now())

    def ack(self, events: Sequence[OutboxEvent] | Position) -> None:
        """Keep the cursor past ``events`` (or at a position): they will not be read again
        by this consumer. Acknowledging behind the stored cursor changes nothing."""
        to = events if isinstance(events, Position) else max(e.position for e in events)
        with self.engine.begin() as conn:
            if not self.outbox.advance(conn, self.name, to, self.clock.now()):
                raise LookupError(f"event consumer {self.name!r} was unregistered")

    def seek(self, event_id: int | None) -> None:
        """Move the stored cursor (back or forward) to just after event ``event_id``."""
        at = self.position_after(event_id)
        with self.engine.begin() as conn:
            self.outbox.seek(conn, self.name, at, self.clock.now())
        self.position = at

    def cursor(self) -> Position:
        """The stored cursor: after the last acknowledged event."""
        with self.engine.connect() as conn:
            found = self.outbox.cursor(conn, self.name)
        if found is None:
            raise LookupError(f"event consumer {self.name!r} was unregistered")
        return found

    def rewind(self) -> None:
        """Forget what was read and not acknowledged: read again from the stored cursor."""
        self.position = self.cursor()

    def drain(self, handle: Callable[[list[OutboxEvent]], object], batches: int = 100) -> int:
        """Read, ``handle`` and acknowledge batch after batch until caught up (at most
        ``batches``); the events handled. If ``handle`` raises, its batch is not
        acknowledged and will be read again."""
        handled = 0
        for _ in range(batches):
            events = self.read()
            if not events:
                break
            try:
                handle(events)
            except BaseException:
                self.rewind()
                raise
            self.ack(events)
            handled += len(events)
        return handled

    def unregister(self) -> None:
        """Delete this consumer's cursor: the pruner no longer keeps events for it."""
        with self.engine.begin() as conn:
            self.outbox.drop(conn, self.name)
        self.close()
