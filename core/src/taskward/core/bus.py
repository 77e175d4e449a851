"""Delivery of lifecycle events to subscribers that can never break or slow a job.

Every subscriber gets its own queue and thread. Emitting is a non-blocking
``put`` of a whole batch; a subscriber that raises has the error counted and
logged, and one that blocks holds at most ``max_batches`` unhandled batches,
after which its new events are dropped and counted. The worker never waits
on a subscriber.
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
    #: Batches accepted but not yet handled, past which new ones are dropped.
    max_batches: int
    queue: queue.SimpleQueue[Sequence[Event] | None] = field(default_factory=queue.SimpleQueue)
    stats: SubscriberStats = field(default_factory=SubscriberStats)
    thread: threading.Thread | None = None
    #: Seconds to let events pile up after each wake-up (see ``EventBus.subscribe``).
    linger: float = 0.0
    #: Batches accepted and batches handled, for ``flush`` and the ``max_batches`` bound.
    offered: int = 0
    finished: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    idle: threading.Condition = field(init=False)
    last_logged: float = field(default=-10.0, init=False, repr=False)

    def __post_init__(self) -> None:
        self.idle = threading.Condition(self.lock)

    def offer(self, events: Sequence[Event]) -> None:
        if self.kinds is not None:
            events = [e for e in events if isinstance(e, self.kinds)]
            if not events:
                return
        with self.lock:
            if self.offered - self.finished >= self.max_batches:
                self.stats.dropped += len(events)
                return
            self.offered += 1
        self.queue.put(events)

    def run(self) -> None:
        """Handle everything queued at each wake-up, then linger: however many batches
        arrive meanwhile, a lingering subscriber wakes at most ``1 / linger`` times a
        second and never falls behind."""
        while True:
            batches = self._take_all()
            for batch in batches:
                if batch is None:
                    return
                self._deliver(batch)
                with self.lock:
                    self.finished += 1
                    self.idle.notify_all()
            if self.linger:
                time.sleep(self.linger)

    def _take_all(self) -> list[Sequence[Event] | None]:
        """Wait for a batch; return it with every batch queued behind it."""
        batches = [self.queue.get()]
        while True:
            try:
                batches.append(self.queue.get_nowait())
            except queue.Empty:
                return batches

    def _deliver(self, batch: Sequence[Event]) -> None:
        for event in batch:
            try:
                self.handler(event)
                self.stats.delivered += 1
            except Exception:
                self.stats.errors += 1
                now = time.monotonic()
                if now - self.last_logged > 10:
                    self.last_logged = now
                    log.exception("event subscriber %r failed on %s", self.name, event.name)


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

        ``linger`` (seconds): after handling everything queued the subscriber waits this
        long, so on a busy spine it wakes a few times a second for many batches instead
        of once per batch (each wake-up costs the worker a thread switch). Events arrive
        up to ``linger`` late: fine for metrics, not for a live feed.
        """
        sub = Subscription(
            name=name or str(getattr(handler, "__qualname__", repr(handler))),
            handler=handler,
            kinds=tuple(kinds) if kinds is not None else None,
            max_batches=max_batches,
            linger=linger,
        )
        sub.thread = threading.Thread(target=sub.run, name=f"taskward-sub-{sub.name}", daemon=True)
        sub.thread.start()
        with self._lock:
            self._subs = [*self._subs, sub]
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Stop delivering to ``sub``; its thread ends after what it was given (a stuck
        one is never waited for: its daemon thread is left behind)."""
        with self._lock:
            self._subs = [s for s in self._subs if s is not sub]
        sub.queue.put(None)

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
