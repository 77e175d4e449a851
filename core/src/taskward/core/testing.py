"""Helpers for testing code that uses Taskward: record events, run queues to empty."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from taskward.core.app import Taskward
from taskward.core.bus import Subscription
from taskward.core.events import Event, JobEvent


class EventRecorder:
    """Collects every event the app emits, in order."""

    def __init__(self, app: Taskward) -> None:
        self.app = app
        self.events: list[Event] = []
        self._lock = threading.Lock()
        self._sub: Subscription = app.bus.subscribe(self._record, name="event-recorder")

    def _record(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)

    def names(self, job_id: Any = None) -> list[str]:
        """Event names in order, optionally only those of one job."""
        self.app.bus.flush()
        with self._lock:
            return [
                e.name
                for e in self.events
                if job_id is None or (isinstance(e, JobEvent) and e.job.id == job_id)
            ]

    def of(self, kind: type[Event]) -> list[Event]:
        self.app.bus.flush()
        with self._lock:
            return [e for e in self.events if isinstance(e, kind)]

    def clear(self) -> None:
        self.app.bus.flush()
        with self._lock:
            self.events.clear()

    def close(self) -> None:
        self.app.bus.unsubscribe(self._sub)


def drain(
    app: Taskward,
    queues: Mapping[str, int] | Iterable[str] | None = None,
    *,
    with_scheduled: bool = False,
    **worker_options: Any,
) -> None:
    """Run ``queues`` (default: every queue of the registered tasks) until none is due.

    Jobs retried with a delay stay ``retryable`` until their time comes; move the
    app's clock and drain again, or pass ``with_scheduled=True`` to run everything now.
    """
    if queues is None:
        queues = sorted({t.policy.queue for t in app.tasks.values()} or {"default"})
    worker = app.worker(queues, **worker_options)
    asyncio.run(worker.drain(with_scheduled=with_scheduled))
    app.bus.flush()
