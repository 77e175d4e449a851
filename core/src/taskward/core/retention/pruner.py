"""The pruner: deletes finished jobs past their age, and outbox events every consumer has read.

It works in bounded steps: each :meth:`Pruner.step` deletes at most one batch
per (state, queue) rule and one batch of events, each batch in its own short
transaction, so no lock is held for long and workers keep claiming between
batches. The leader runs it (one pruner per cluster is enough; two would only
race for the same rows, harmlessly). With an :class:`ArchiveStep` it deletes
only the jobs the archive reports written and verified.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

import sqlalchemy as sa

from taskward.core.clock import Clock
from taskward.core.events import Event, RetentionPruned
from taskward.core.job import Job
from taskward.core.retention.policy import PRUNABLE, RetentionPolicy
from taskward.core.store.outbox import Position
from taskward.core.store.retention import Due, RetentionStore

#: Jobs per delete transaction (with their events and log records, several times the rows).
DEFAULT_BATCH = 1000


@runtime_checkable
class ArchiveStep(Protocol):
    """What the archiver plugs into the pruner: it sees each batch before the delete."""

    def archive(self, jobs: Sequence[Job]) -> Collection[uuid.UUID]:
        """Write ``jobs`` (and whatever of theirs it keeps) and verify the copy; return
        the ids written and verified. Only those are deleted; the rest are offered
        again next time. Raising deletes nothing."""
        ...


@dataclass(slots=True)
class Pruned:
    """What one step (or a whole run) deleted."""

    jobs: dict[str, int] = field(default_factory=dict)
    events: int = 0
    #: Whether a batch came back full: more may be due now.
    more: bool = False

    def add(self, other: Pruned) -> None:
        for state, count in other.jobs.items():
            self.jobs[state] = self.jobs.get(state, 0) + count
        self.events += other.events
        self.more = other.more

    @property
    def total(self) -> int:
        return sum(self.jobs.values()) + self.events


class Pruner:
    """Retention for the database of ``engine``, by ``policy``."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        clock: Clock,
        emit: Callable[[Sequence[Event]], None],
        policy: RetentionPolicy | None = None,
        archive: ArchiveStep | None = None,
        batch: int = DEFAULT_BATCH,
    ) -> None:
        if batch < 1:
            raise ValueError(f"retention batch: expected a positive number of jobs, got {batch!r}")
        self.engine = engine
        self.sql = RetentionStore(engine.dialect.name)
        self.clock = clock
        self.emit = emit
        self.policy = policy or RetentionPolicy()
        self.archive = archive
        self.batch = batch
        #: Per rule, the last job offered to the archive in this run: jobs it left
        #: behind are offered again next run, not again and again in this one.
        self._offered: dict[
            tuple[str, str | None, tuple[str, ...]], tuple[datetime, uuid.UUID]
        ] = {}

    def rules(self, now: datetime) -> list[Due]:
        """One rule per state, plus one per (queue, state) the policy overrides."""
        rules = []
        for state in PRUNABLE:
            overridden = tuple(q for q, ages in self.policy.queues.items() if state in ages)
            age = self.policy.age(state)
            if age is not None:
                rules.append(Due(state, now - age, other_than=overridden))
            for queue in overridden:
                age = self.policy.age(state, queue)
                if age is not None:
                    rules.append(Due(state, now - age, queue=queue))
        return rules

    def step(self) -> Pruned:
        """Delete at most one batch per rule and one of events; report it (and emit it)."""
        now = self.clock.now()
        done = Pruned()
        with self.engine.connect() as conn:
            read_by_all = self.sql.outbox.slowest(conn)
        for rule in self.rules(now):
            count, full = self._jobs(rule, read_by_all)
            if count:
                done.jobs[rule.state] = done.jobs.get(rule.state, 0) + count
            done.more = done.more or full
        if self.policy.events is not None:
            with self.engine.begin() as conn:
                done.events = self.sql.outbox.trim(
                    conn, read_by_all, now - self.policy.events, self.batch
                )
            done.more = done.more or done.events > 0
        if done.total:
            self.emit([RetentionPruned(at=now, jobs=dict(done.jobs), events=done.events)])
        return done

    def _jobs(self, rule: Due, read_by_all: Position | None) -> tuple[int, bool]:
        """One batch of ``rule``: (jobs deleted, whether more may be due)."""
        if self.archive is None:
            with self.engine.begin() as conn:
                deleted = self.sql.delete(conn, rule, self.batch, read_by_all)
            return deleted, deleted == self.batch
        key = (rule.state, rule.queue, rule.other_than)
        with self.engine.connect() as conn:
            jobs = self.sql.due(conn, rule, self.batch, self._offered.get(key))
        if not jobs:
            return 0, False
        last = jobs[-1]
        assert last.finished_at is not None
        self._offered[key] = (last.finished_at, last.id)
        ids = self._archived(self.archive, jobs)
        if not ids:
            return 0, len(jobs) == self.batch
        with self.engine.begin() as conn:
            deleted = self.sql.delete(conn, rule, self.batch, read_by_all, ids)
        return deleted, len(jobs) == self.batch

    @staticmethod
    def _archived(archive: ArchiveStep, jobs: Sequence[Job]) -> list[uuid.UUID]:
        """The ids of ``jobs`` the archive confirms (any others it names are ignored)."""
        offered = {job.id for job in jobs}
        return [job_id for job_id in archive.archive(jobs) if job_id in offered]

    def prune(self, max_steps: int = 1_000_000) -> Pruned:
        """Step until nothing is due (tests, scripts, ``taskward`` commands)."""
        total = Pruned()
        self._offered.clear()
        for _ in range(max_steps):
            step = self.step()
            total.add(step)
            if not step.more:
                break
        return total

    async def run(self, run_in_db: Callable[[Callable[[], Pruned]], Awaitable[Pruned]]) -> Pruned:
        """Step until nothing is due, each step through ``run_in_db`` (the worker's
        database threads), so other database work takes turns with the batches."""
        total = Pruned()
        self._offered.clear()
        while True:
            step = await run_in_db(self.step)
            total.add(step)
            if not step.more:
                return total
