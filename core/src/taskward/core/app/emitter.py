"""The app's side of the event spine: publish what committed, wake this process's workers."""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable, Sequence

import sqlalchemy as sa

from taskward.core.bus import EventBus
from taskward.core.events import Event, JobEvent
from taskward.core.states import JobState

Wakeup = Callable[[set[str]], None]


class EventEmitter:
    """Publishes committed events on the bus and wakes in-process workers of ready queues."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self._wakeups: list[Wakeup] = []
        self._lock = threading.Lock()
        # Events of jobs enqueued in a caller's transaction, emitted when it commits.
        self._pending: weakref.WeakKeyDictionary[sa.Connection, list[JobEvent]] = (
            weakref.WeakKeyDictionary()
        )

    def emit(self, events: Sequence[Event]) -> None:
        """Publish committed events and wake in-process workers of now-available queues."""
        self.bus.emit(events)
        ready = {
            e.job.queue
            for e in events
            if isinstance(e, JobEvent) and e.job.state is JobState.AVAILABLE
        }
        if ready:
            self.wake(ready)

    def emit_on_commit(self, connection: sa.Connection, events: Sequence[JobEvent]) -> None:
        """Emit ``events`` when ``connection``'s transaction commits; drop them on rollback."""
        pending = self._pending.get(connection)
        if pending is None:
            pending = self._pending[connection] = []

            def on_commit(_conn: sa.Connection) -> None:
                ready = list(pending)
                pending.clear()
                self.emit(ready)

            sa.event.listen(connection, "commit", on_commit)
            sa.event.listen(connection, "rollback", lambda _conn: pending.clear())
        pending.extend(events)

    def wake(self, queues: set[str]) -> None:
        """Tell this process's idle workers that ``queues`` have work."""
        for wake in list(self._wakeups):
            wake(queues)

    def add_wakeup(self, callback: Wakeup) -> Callable[[], None]:
        """Call ``callback(queues)`` when jobs become available in this process."""
        with self._lock:
            self._wakeups.append(callback)

        def remove() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._wakeups.remove(callback)

        return remove
