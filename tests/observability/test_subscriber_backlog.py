"""A lingering subscriber (metrics) wakes rarely but never falls behind a busy spine."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from taskward.core.bus import EventBus
from taskward.core.events import Event, WorkerStopped

BATCHES = 100


def test_a_lingering_subscriber_takes_its_whole_backlog_at_each_wake_up() -> None:
    bus, entered, gate = EventBus(), threading.Event(), threading.Event()

    def handler(event: Event) -> None:
        entered.set()
        gate.wait(30)

    # One batch per linger would take BATCHES x 0.5 s: far past flush's deadline below.
    sub = bus.subscribe(handler, linger=0.5, max_batches=BATCHES)
    event = WorkerStopped(at=datetime.now(UTC), worker_id="w1")
    try:
        bus.emit([event])
        assert entered.wait(10)  # the subscriber holds the first batch...
        for _ in range(BATCHES - 1):  # ...while the rest queue up behind it
            bus.emit([event])
        gate.set()
        assert bus.flush(timeout=20)
        assert (sub.stats.delivered, sub.stats.dropped) == (BATCHES, 0)
    finally:
        gate.set()
        bus.close()
