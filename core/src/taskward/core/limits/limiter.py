"""``app.limits``: the limits of an app, a plugin applied inside every claim's transaction.

With no limit added the store's claim limiter is ``None`` and claims stay one
statement. With limits, a claim reads candidates page by page (locked with
``SKIP LOCKED`` on PostgreSQL), lets :class:`Admission` pick within the limits,
writes the buckets back and reports each held job once with a
:class:`~taskward.core.events.JobRateLimited` event.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa

from taskward.core import schema
from taskward.core.clock import Clock
from taskward.core.errors import InvalidLimitError
from taskward.core.events import JobRateLimited
from taskward.core.limits import buckets
from taskward.core.limits.admission import Admission, Candidate
from taskward.core.limits.spec import Limit
from taskward.core.loops import Loop
from taskward.core.ports import Connect, Emitter, LoopHost, Plugin
from taskward.core.store import ClaimLimiter, SqlStore, jobs_where

J = schema.jobs
PAGE = 100
MAX_SCAN = 1000
MAX_REPORTED = 10_000
PRUNE_INTERVAL = 60.0


class Limits(Plugin):
    """Rate limits and concurrency caps, enforced at claim time across all workers."""

    name = "limits"

    def __init__(self, *, connect: Connect, clock: Clock, emitter: Emitter) -> None:
        self._connect, self._clock, self._emitter = connect, clock, emitter
        self._limits: dict[str, Limit] = {}
        self._reported: OrderedDict[uuid.UUID, None] = OrderedDict()
        self._waits: dict[str, float | None] = {}
        self._lock = threading.Lock()

    def add(self, limit: Limit) -> Limit:
        """Enforce ``limit`` from now on (every worker process must add the same limits)."""
        if self._limits.get(limit.name, limit) != limit:
            raise InvalidLimitError(f"{limit.name}: a different limit has that scope")
        self._limits[limit.name] = limit
        return limit

    def remove(self, name: str) -> Limit | None:
        """Stop enforcing the limit of scope ``name`` (a config reload dropped or changed it)."""
        return self._limits.pop(name, None)

    @property
    def claim_limiter(self) -> ClaimLimiter | None:
        """This plugin, once it has a limit to enforce (until then claims stay plain)."""
        return self if self._limits else None

    def __iter__(self) -> Iterator[Limit]:
        return iter(list(self._limits.values()))

    def retry_after(self, queue: str) -> float | None:
        """Seconds until a job of ``queue`` held by a rate limit may start (None: no hint)."""
        return self._waits.get(queue)

    # -- the claim hook ----------------------------------------------------------------
    def choose(
        self, store: SqlStore, conn: sa.Connection, queue: str, limit: int, now: datetime
    ) -> tuple[list[uuid.UUID], datetime] | None:
        """Ids of up to ``limit`` jobs of ``queue`` the limits let start (locked), best first,
        and the time they were granted at (read once the limits were locked)."""
        scope = [lim for lim in self._limits.values() if lim.queue in (None, queue)]
        if not scope:
            return None
        admission = Admission(store, self._clock, queue, scope, now)
        picked: list[uuid.UUID] = []
        after, scanned = None, 0
        while len(picked) < limit and scanned < MAX_SCAN:
            # The first page is what an unlimited claim would take; more only if jobs are held.
            size = limit if after is None else max(PAGE, limit)
            page = _candidates(conn, queue, now, after, size, admission.keyed)
            if not page:
                break
            admission.prepare(conn, page)
            for candidate in page:
                if admission.admit(candidate):
                    picked.append(candidate.id)
                    if len(picked) == limit:
                        break
            scanned, after = scanned + len(page), page[-1]
            if len(page) < size:
                break
        buckets.write(store, conn, admission.buckets)
        self._report(store, conn, admission, picked, admission.now)
        self._waits[queue] = admission.wait()
        return picked, admission.now

    def _report(
        self,
        store: SqlStore,
        conn: sa.Connection,
        admission: Admission,
        picked: Sequence[uuid.UUID],
        now: datetime,
    ) -> None:
        """One ``JobRateLimited`` per job per wait, not one per claim that skipped it."""
        with self._lock:
            for job_id in picked:
                self._reported.pop(job_id, None)
            fresh = {c.id: lim for c, lim, _ in admission.held if c.id not in self._reported}
            for job_id in fresh:
                self._reported[job_id] = None
            while len(self._reported) > MAX_REPORTED:
                self._reported.popitem(last=False)
        if fresh:
            jobs = jobs_where(conn, J.c.id.in_(list(fresh)))
            events = [JobRateLimited(at=now, job=j, limit=fresh[j.id].name) for j in jobs]
            store.write_events(conn, events)
            self._emitter.emit_on_commit(conn, events)

    # -- maintenance -------------------------------------------------------------------
    def prune(self) -> int:
        """Delete per-key buckets idle long enough to be full again (a missing row is full)."""
        now, deleted = self._clock.now(), 0
        with self._connect() as conn:
            for lim in self._limits.values():
                if lim.rate is not None and lim.by is not None:
                    refill = timedelta(seconds=lim.rate.capacity / lim.rate.per_second)
                    deleted += buckets.prune(conn, lim.name, now - refill)
        return deleted

    def loops(self, host: LoopHost) -> list[Loop]:
        """The leader's bucket pruning (none without per-key rate limits)."""
        if not any(lim.rate is not None and lim.by is not None for lim in self._limits.values()):
            return []

        async def prune() -> None:
            await host.offload(self.prune)

        return [Loop("limits-prune", PRUNE_INTERVAL, prune, leader_only=True)]


def _candidates(
    conn: sa.Connection,
    queue: str,
    now: datetime,
    after: Candidate | None,
    size: int,
    with_arguments: bool,
) -> list[Candidate]:
    """The next ``size`` available jobs of ``queue`` in claim order, locked (others skip them)."""
    order = (J.c.priority, J.c.scheduled_at, J.c.id)
    arguments = (J.c.args, J.c.kwargs) if with_arguments else ()
    stmt = sa.select(*order, J.c.task, *arguments).where(
        J.c.state == "available", J.c.queue == queue, J.c.scheduled_at <= now
    )
    if after is not None:
        stmt = stmt.where(sa.tuple_(*order) > (after.priority, after.scheduled_at, after.id))
    stmt = stmt.order_by(*order).limit(size).with_for_update(skip_locked=True)
    return [Candidate(row[2], row[3], row[0], row[1], *row[4:]) for row in conn.execute(stmt)]
