"""Delivery of lifecycle events to subscribers that can never break or slow a job.

Every subscriber gets its own bounded queue and thread. Emitting is a
non-blocking ``put`` of a whole batch; a subscriber that raises has the error
counted and logged, and one that blocks fills its own queue, after which its
new events are dropped and counted. The worker never waits on a subscriber.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from taskward.core.events import Event

log = logging.getLogger("taskward.core.bus")

Handler = Callable[[Event], None]


@dataclass(slots=True)
class SubscriberStats:
    delivered: int = 0
    errors: int = 0
    dropped: int = 0


@dataclass(slots=True, eq=False)
class Subscription:
    """One subscriber: its handler, its filter, its queue and its thread."""

    name: str
    handler: Handler
    kinds: tuple[type[Event], ...] | None
    queue: queue.Queue[Sequence[Event] | None]
    stats: SubscriberStats = field(default_factory=SubscriberStats)
    thread: threading.Thread | None = None
    #: Seconds to let events pile up after each batch (see ``EventBus.subscribe``).
    linger: float = 0.0
    #: Batches accepted and batches done with (handled or dropped), for ``flush``.
    offered: int = 0
    finished: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    idle: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.idle = threading.Condition(self.lock)

    def offer(self, events: Sequence[Event]) -> None:
        if self.kinds is not None:
            events = [e for e in events if isinstance(e, self.kinds)]
            if not events:
                return
        with self.lock:
            self.offered += 1
        try:
            self.queue.put_nowait(events)
        except queue.Full:
            with self.lock:
                self.finished += 1
                self.stats.dropped += len(events)
                self.idle.notify_all()

    def run(self) -> None:
        last_logged = 0.0
        while True:
            batch = self.queue.get()
            if batch is None:
                return
            for event in batch:
                try:
                    self.handler(event)
                    self.stats.delivered += 1
                except Exception:
                    self.stats.errors += 1
                    now = time.monotonic()
                    if now - last_logged > 10:
                        last_logged = now
                        log.exception("event subscriber %r failed on %s", self.name, event.name)
            with self.lock:
                self.finished += 1
                self.idle.notify_all()
            if self.linger:
                time.sleep(self.linger)


class EventBus:
    """Fans events out to isolated subscribers."""

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._lock = threading.Lock()

    def subscribe(
        self,
        handler: Handler,
        *,
        name: str | None = None,
        kinds: Iterable[type[Event]] | None = None,
        max_batches: int = 10_000,
        linger: float = 0.0,
    ) -> Subscription:
        """Deliver events (optionally only of ``kinds``) to ``handler`` on its own thread.

        ``linger`` (seconds): after each batch the subscriber waits this long, so on a
        busy spine it wakes a few times a second for many batches instead of once per
        batch (each wake-up costs the worker a thread switch). Events arrive up to
        ``linger`` late: fine for metrics, not for a live feed.
        """
        sub = Subscription(
            name=name or str(getattr(handler, "__qualname__", repr(handler))),
            handler=handler,
            kinds=tuple(kinds) if kinds is not None else None,
            queue=queue.Queue(maxsize=max_batches),
            linger=linger,
        )
        sub.thread = threading.Thread(target=sub.run, name=f"taskward-sub-{sub.name}", daemon=True)
        sub.thread.start()
        with self._lock:
            self._subs = [*self._subs, sub]
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs = [s for s in self._subs if s is not sub]
        try:
            sub.queue.put_nowait(None)
        except queue.Full:  # stuck: never wait for it, leave its daemon thread behind
            log.warning("event subscriber %r is stuck; abandoning it", sub.name)

    def emit(self, events: Sequence[Event]) -> None:
        """Hand a batch of committed events to every subscriber; never blocks."""
        if not events:
            return
        for sub in self._subs:
            sub.offer(events)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every subscriber has handled what it was given (tests, shutdown).

        Only what was emitted before the call counts: a steady stream of new events
        cannot keep it waiting.
        """
        deadline = time.monotonic() + timeout
        for sub in self._subs:
            with sub.lock:
                target = sub.offered
                while sub.finished < target:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    sub.idle.wait(left)
        return True

    @property
    def subscriptions(self) -> list[Subscription]:
        return list(self._subs)

    def close(self) -> None:
        for sub in list(self._subs):
            self.unsubscribe(sub)
