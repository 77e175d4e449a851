"""The event relay: committed lifecycle events read from the outbox, in order, at least once.

:class:`EventReader` reads from a position held in memory (a live feed resuming
after a client's last event id); :class:`EventRelay` is a named consumer whose
cursor is kept in the database. See :mod:`taskward.core.store.outbox` for the
ordering that never skips an event.
"""

from taskward.core.relay.consumer import EventRelay
from taskward.core.relay.events import OutboxEvent
from taskward.core.relay.reader import EventReader
from taskward.core.store.outbox import START, Position

__all__ = ["START", "EventReader", "EventRelay", "OutboxEvent", "Position"]
