"""One claim's decisions: which candidates the limits let start, best first.

Candidates come in priority order. The limits the first page needs are locked
(in name order), then running jobs are counted and buckets read *after* the
lock, so every worker sees what the previous claim under that limit took. A
job starts only if every limit covering it has room; otherwise it stays
``available`` and the limit that held it is noted. Later pages consider only
jobs whose limits are already locked: locking more mid-claim could deadlock.

Arguments are read only for limits kept per key; without those, running jobs
are counted by the database rather than fetched.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from taskward.core import schema
from taskward.core.clock import Clock
from taskward.core.limits import buckets
from taskward.core.limits.buckets import LOCK, Bucket
from taskward.core.limits.spec import Limit
from taskward.core.store import SqlStore

J = schema.jobs


@dataclass(frozen=True, slots=True)
class Candidate:
    id: uuid.UUID
    task: str
    priority: int
    scheduled_at: datetime
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Admission:
    """The limits of one queue, applied to one claim's candidates."""

    store: SqlStore
    clock: Clock
    queue: str
    limits: Sequence[Limit]
    now: datetime
    locked: dict[str, Limit] | None = None
    running: Counter[tuple[str, str]] = field(default_factory=Counter)
    buckets: dict[tuple[str, str], Bucket] = field(default_factory=dict)
    #: Jobs held back, the limit that held each, and whether its rate (not its cap) did.
    held: list[tuple[Candidate, Limit, bool]] = field(default_factory=list)
    _covering: dict[uuid.UUID, list[tuple[Limit, str]]] = field(default_factory=dict)

    @property
    def keyed(self) -> bool:
        """Whether a limit is kept per key (then candidates' arguments are needed)."""
        return any(lim.by is not None for lim in self.limits)

    def prepare(self, conn: sa.Connection, page: Sequence[Candidate]) -> None:
        """Lock what the first page needs, then load running counts and buckets."""
        for c in page:
            self._covering[c.id] = [
                (lim, lim.key(c.args, c.kwargs))
                for lim in self.limits
                if lim.covers(self.queue, c.task)
            ]
        if self.locked is None:
            self.locked = {lim.name: lim for c in page for lim, _ in self._covering[c.id]}
            self._lock(conn, self.locked)
        wanted: dict[str, set[str]] = {}
        for c in page:
            for lim, key in self._covering[c.id]:
                if lim.rate is not None and (lim.name, key) not in self.buckets:
                    wanted.setdefault(lim.name, set()).add(key)
        rates = {lim.name: lim.rate for lim in self.limits if lim.rate is not None}
        if wanted:
            self.buckets.update(buckets.read(conn, wanted, rates, self.now))

    def admit(self, c: Candidate) -> bool:
        """Take room for ``c`` under every limit covering it, or note what held it."""
        assert self.locked is not None
        covering = self._covering[c.id]
        if any(lim.name not in self.locked for lim, _ in covering):
            return False  # a limit first needed after the lock: next claim
        for lim, key in covering:
            if lim.concurrency is not None and self.running[(lim.name, key)] >= lim.concurrency:
                self.held.append((c, lim, False))
                return False
            short = lim.rate is not None and self.buckets[(lim.name, key)].tokens < 1
            if short and not _bypasses(lim, c):
                self.held.append((c, lim, True))
                return False
        for lim, key in covering:
            self.running[(lim.name, key)] += 1
            if lim.rate is not None and self.buckets[(lim.name, key)].tokens >= 1:
                self.buckets[(lim.name, key)].take()
        return True

    def wait(self) -> float | None:
        """Seconds until a rate limit that held a job has a token again."""
        waits = [
            (1 - self.buckets[(lim.name, lim.key(c.args, c.kwargs))].tokens) / lim.rate.per_second
            for c, lim, by_rate in self.held
            if by_rate and lim.rate is not None
        ]
        return max(0.0, min(waits)) if waits else None

    def _lock(self, conn: sa.Connection, locked: dict[str, Limit]) -> None:
        """Lock the limits; read the buckets kept in their lock rows and the running counts."""
        if not locked:
            return
        rows = buckets.lock(conn, locked)
        if rows.keys() != locked.keys():  # first use of a limit: make its row
            full = {n: lim.rate.capacity if lim.rate else 0.0 for n, lim in locked.items()}
            buckets.ensure_locks(self.store, conn, full, self.now)
            rows = buckets.lock(conn, locked)
        self.now = max(self.now, self.clock.now())  # time as of the lock, not before it
        for name, lim in locked.items():
            if lim.rate is not None and lim.by is None:
                tokens, updated_at = rows[name]
                self.buckets[(name, LOCK)] = buckets.level(tokens, updated_at, self.now, lim.rate)
        capped = [lim for lim in locked.values() if lim.concurrency is not None]
        if capped:
            self._count_running(conn, capped)

    def _count_running(self, conn: sa.Connection, capped: Sequence[Limit]) -> None:
        scopes = sa.or_(
            *(
                sa.and_(
                    J.c.queue == lim.queue if lim.queue else sa.true(),
                    J.c.task == lim.task if lim.task else sa.true(),
                )
                for lim in capped
            )
        )
        executing = J.c.state == "executing"
        if not any(lim.by is not None for lim in capped):
            stmt = (
                sa.select(J.c.queue, J.c.task, sa.func.count())
                .where(executing, scopes)
                .group_by(J.c.queue, J.c.task)
            )
            for queue, task, count in conn.execute(stmt):
                for lim in capped:
                    if lim.covers(queue, task):
                        self.running[(lim.name, LOCK)] += count
            return
        stmt = sa.select(J.c.queue, J.c.task, J.c.args, J.c.kwargs).where(executing, scopes)
        for queue, task, args, kwargs in conn.execute(stmt):
            for lim in capped:
                if lim.covers(queue, task):
                    self.running[(lim.name, lim.key(args, kwargs))] += 1


def _bypasses(lim: Limit, c: Candidate) -> bool:
    return lim.bypass_priority is not None and c.priority <= lim.bypass_priority
