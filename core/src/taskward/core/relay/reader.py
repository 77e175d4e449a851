"""Reading the outbox from a position kept in memory: the base of every consumer.

A live feed (the API's server-sent events) is such a reader started after the
client's ``Last-Event-ID``; :class:`~taskward.core.relay.consumer.EventRelay`
adds a durable cursor in the database.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from taskward.core.relay.events import OutboxEvent
from taskward.core.relay.wake import Wake, wake_for
from taskward.core.store.outbox import START, Outbox, Position

DEFAULT_BATCH = 500
MAX_BATCH = 10_000


class EventReader:
    """Committed events in order, ``batch`` at a time, from ``after`` (default: the start).

    Every event is read once per reader, in (transaction, id) order on PostgreSQL
    and id order on SQLite (see :mod:`taskward.core.store.outbox` for why none is
    ever skipped), after the transaction that wrote it committed.
    """

    def __init__(
        self,
        engine: sa.Engine,
        *,
        after: Position = START,
        batch: int = DEFAULT_BATCH,
        poll_interval: float = 1.0,
    ) -> None:
        if not 1 <= batch <= MAX_BATCH:
            raise ValueError(f"batch: expected 1 to {MAX_BATCH} events, got {batch!r}")
        if poll_interval <= 0:
            raise ValueError(f"poll_interval: expected seconds > 0, got {poll_interval!r}")
        self.engine = engine
        self.outbox = Outbox(engine.dialect.name)
        self.batch = batch
        self.poll_interval = poll_interval
        #: The position of the last event read.
        self.position = after
        self._wake: Wake | None = None

    def read(self) -> list[OutboxEvent]:
        """The next batch (empty when caught up); the reader moves past it."""
        with self.engine.connect() as conn:
            rows = self.outbox.read(conn, self.position, self.batch)
        events = [OutboxEvent.from_row(row) for row in rows]
        if events:
            self.position = events[-1].position
        return events

    def seek(self, event_id: int | None) -> None:
        """Read next what came after event ``event_id`` (None: from the oldest kept).

        An id no longer in the outbox (pruned) starts from the oldest event still
        there, so nothing left is missed; an id never seen raises ``ValueError``.
        """
        self.position = self.position_after(event_id)

    def position_after(self, event_id: int | None) -> Position:
        if event_id is None:
            return START
        with self.engine.connect() as conn:
            found = self.outbox.position_of(conn, event_id)
            newest = self.outbox.newest_id(conn)
        if found is not None:
            return found
        if event_id > newest:
            raise ValueError(f"event id {event_id}: no such event (the newest is {newest})")
        return START

    def head(self) -> Position:
        """The position after every event committed so far."""
        with self.engine.connect() as conn:
            return self.outbox.head(conn)

    def wait(self, timeout: float | None = None) -> None:
        """Block until new events may be there (a notification on PostgreSQL, a commit
        seen on SQLite) or ``timeout`` (default ``poll_interval``) seconds pass."""
        if self._wake is None:
            self._wake = wake_for(self.engine)
        self._wake.wait(self.poll_interval if timeout is None else timeout)

    def __iter__(self) -> Iterator[list[OutboxEvent]]:
        """Batch after batch, for ever: when caught up, :meth:`wait` and read again."""
        while True:
            events = self.read()
            if events:
                yield events
            else:
                self.wait()

    def close(self) -> None:
        if self._wake is not None:
            self._wake.close()
            self._wake = None
