"""The SQL store: every queue operation as a few batched statements.

Dialect differences (row locking on claim, wake-up notifications, upsert
syntax, LISTEN/NOTIFY and SQLite's change polling) stay in :mod:`.sqlite` and
:mod:`.postgresql` behind the hooks of :mod:`.dialect`; everything else is
shared here. Methods that change jobs write their events to the outbox in the
same transaction and return them; callers emit them after commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa

from taskward.core import schema
from taskward.core.events import Event, JobEvent, JobInserted, JobStaged, JobStarted
from taskward.core.job import Job
from taskward.core.states import JobState, check_transitions
from taskward.core.store._rows import JOB_COLUMNS, insert_values, job_from_row
from taskward.core.store._transitions import refused
from taskward.core.store.reads import JobReads, select_jobs
from taskward.core.store.registry import Registry

J = schema.jobs
#: The moves the claim and stage statements make, checked against the table on import.
CLAIM = (JobState.AVAILABLE, JobState.EXECUTING)
STAGE = ((JobState.SCHEDULED, JobState.RETRYABLE), JobState.AVAILABLE)
check_transitions([CLAIM[0]], CLAIM[1])
check_transitions(*STAGE)
W = schema.workers

#: Runs inside ``write_transitions``' transaction, given the store, the connection and the
#: events; may write more there (with ``hooks=False``).
TransitionHook = Callable[["SqlStore", sa.Connection, Sequence[JobEvent]], None]


class ClaimLimiter(Protocol):
    """Picks what a claim may take under rate and concurrency limits (inside its transaction)."""

    def choose(
        self, store: SqlStore, conn: sa.Connection, queue: str, limit: int, now: datetime
    ) -> tuple[list[uuid.UUID], datetime] | None:
        """Ids to claim (locked) and the time they were granted at, or ``None`` when no
        limit applies to ``queue``."""
        ...

    def retry_after(self, queue: str) -> float | None:
        """Seconds until a job of ``queue`` held by a limit may start (None: no hint)."""
        ...


class StorePlugin(Protocol):
    """The part of a plugin the store runs: see :class:`taskward.core.ports.Plugin`."""

    @property
    def transition_hooks(self) -> Sequence[TransitionHook]: ...

    @property
    def claim_limiter(self) -> ClaimLimiter | None: ...


class SqlStore(JobReads, Registry):
    """Queue storage on SQLAlchemy Core; subclassed once per dialect.

    The reads (:mod:`.reads`) and the worker, queue and lease rows (:mod:`.registry`)
    are mixed in; the dialect's hooks are declared in :mod:`.dialect`.
    """

    dialect = "sql"

    def __init__(self, engine: sa.Engine, plugins: Sequence[StorePlugin] = ()) -> None:
        self.engine = engine
        #: The plugins whose hooks and limiters this store runs, fixed at construction.
        self.plugins = tuple(plugins)
        #: Run in every ``write_transitions`` (workflow dependents, schedule bookkeeping).
        self.transition_hooks = tuple(h for p in self.plugins for h in p.transition_hooks)
        # The hot statements are built once: building one and computing its cache key
        # costs more Python time (~0.4 ms) than a small claim's database work.
        best = self._lock_for_claim(
            sa.select(J.c.id)
            .where(
                J.c.state == CLAIM[0].value,
                J.c.queue == sa.bindparam("b_queue"),
                J.c.scheduled_at <= sa.bindparam("b_now"),
            )
            .order_by(J.c.priority, J.c.scheduled_at, J.c.id)
            .limit(sa.bindparam("b_limit"))
        )
        self._claim_best: sa.Executable = self._claim(best.scalar_subquery())
        self._claim_best_writes_events = False  # PostgreSQL's writes its started events
        self._lock_owned = self._lock_rows(
            sa.select(J.c.id, J.c.attempt).where(
                self.id_in(J.c.id, name="b_ids"),
                J.c.state == "executing",
                J.c.attempted_by == sa.bindparam("b_worker"),
            )
        )

    @property
    def claim_limiter(self) -> ClaimLimiter | None:
        """The limiter a claim consults now; ``None`` (the plain claim) until a plugin has
        limits to enforce."""
        for plugin in self.plugins:
            limiter = plugin.claim_limiter
            if limiter is not None:
                return limiter
        return None

    # -- inserting -----------------------------------------------------------------
    def insert(self, conn: sa.Connection, jobs: Sequence[Job], now: datetime) -> list[JobEvent]:
        """Insert jobs; those whose unique key is taken are skipped (see :meth:`duplicates`)."""
        if not jobs:
            return []
        stmt = self._insert_into(J).on_conflict_do_nothing(  # type: ignore[attr-defined]
            index_elements=[J.c.unique_key], index_where=J.c.unique_key.isnot(None)
        )
        if any(job.unique_key for job in jobs):
            inserted = {
                row[0]
                for row in conn.execute(
                    stmt.returning(J.c.id, sort_by_parameter_order=True),
                    [insert_values(j) for j in jobs],
                )
            }
            jobs = [j for j in jobs if j.id in inserted]
            events: list[JobEvent] = [JobInserted(at=now, job=j) for j in jobs]
            self.write_events(conn, events)
            self.notify(conn, _available_queues(jobs))
        else:
            events = [JobInserted(at=now, job=j) for j in jobs]
            self._insert_new(conn, events, _available_queues(jobs))
        return events

    def claims_in_one_statement(self) -> bool:  # then it may run outside a transaction
        return False

    def inserts_in_one_statement(self, jobs: Sequence[Job]) -> bool:  # the same, for insert
        return False

    def find_by_unique_keys(self, conn: sa.Connection, keys: Sequence[str]) -> dict[str, Job]:
        rows = conn.execute(sa.select(*JOB_COLUMNS).where(J.c.unique_key.in_(keys)))
        jobs = [job_from_row(row) for row in rows]
        return {job.unique_key: job for job in jobs if job.unique_key is not None}

    # -- claiming ------------------------------------------------------------------
    def claim(
        self, conn: sa.Connection, queue: str, worker_id: str, limit: int, now: datetime
    ) -> list[JobStarted]:
        """Move up to ``limit`` available jobs of ``queue`` to executing, best first."""
        chosen = None
        limiter = self.claim_limiter
        if limiter is not None:
            choice = limiter.choose(self, conn, queue, limit, now)
            if choice is not None:
                chosen, now = choice
                if not chosen:
                    return []
        params: dict[str, Any] = {"b_now": now, "b_worker": worker_id}
        stmt: sa.Executable
        if chosen:
            stmt = self._claim(chosen)
        else:
            stmt = self._claim_best
            params.update(b_queue=queue, b_limit=limit)
        jobs = sorted(
            map(job_from_row, conn.execute(stmt, params).all()),  # all(): one fetch
            key=lambda j: (j.priority, j.scheduled_at, j.id.int),
        )
        events = [
            JobStarted(
                at=now,
                job=j,
                queue_wait=max(0.0, (now - j.runnable_at).total_seconds())
                if j.runnable_at
                else 0.0,
            )
            for j in jobs
        ]
        if chosen or not self._claim_best_writes_events:
            self.write_events(conn, events)
        return events

    def _claim(self, ids: Any) -> sa.Update:
        """Move the jobs ``ids`` selects (a list or a subquery) to executing."""
        return (
            J.update()
            .where(J.c.id.in_(ids))
            .values(
                state=CLAIM[1].value,
                attempt=J.c.attempt + 1,
                attempted_at=sa.bindparam("b_now"),
                attempted_by=sa.bindparam("b_worker"),
                cancel_requested=False,
            )
            .returning(*JOB_COLUMNS)
        )

    # -- transitions ---------------------------------------------------------------
    def lock_owned(
        self, conn: sa.Connection, ids: Sequence[uuid.UUID], worker_id: str
    ) -> dict[uuid.UUID, int]:
        """Which of ``ids`` are still executing on ``worker_id``, with their current attempt.

        The rows stay locked until commit. Callers compare the attempt too: a job rescued
        and claimed again by the same worker must not be settled by its earlier attempt.
        """
        if not ids:
            return {}
        params = {"b_ids": list(ids), "b_worker": worker_id}
        return {row[0]: row[1] for row in conn.execute(self._lock_owned, params)}

    def lock_jobs(
        self, conn: sa.Connection, where: sa.ColumnElement[bool], limit: int | None = None
    ) -> list[Job]:
        """Select and lock the jobs matching ``where`` for a read-modify-write."""
        stmt = self._lock_rows(self._jobs_where(where, limit))
        return [job_from_row(r) for r in conn.execute(stmt)]

    def _jobs_where(
        self, where: sa.ColumnElement[bool], limit: int | None = None
    ) -> sa.Select[Any]:
        return select_jobs(where, limit)

    def write_transitions(
        self, conn: sa.Connection, events: Sequence[JobEvent], *, hooks: bool = True
    ) -> None:
        """Persist each event's job snapshot and the events themselves, batched.

        Raises :class:`IllegalTransitionError` (the caller's transaction then rolls
        back) if a job's current state may not move to its snapshot's.
        ``hooks=False`` skips :attr:`transition_hooks` (for a hook's own writes).
        """
        if not events:
            return
        jobs = list({e.job.id: e.job for e in events}.values())  # a job's last snapshot wins
        if self._write_snapshots(conn, jobs, events) != len(jobs):
            raise refused(conn, jobs)
        self.notify(conn, {e.job.queue for e in events if e.job.state is JobState.AVAILABLE})
        if hooks:
            for hook in self.transition_hooks:
                hook(self, conn, events)

    def request_cancel(self, conn: sa.Connection, job_id: uuid.UUID) -> None:
        """Flag an executing job for cancellation and tell its worker on commit."""
        conn.execute(J.update().where(J.c.id == job_id).values(cancel_requested=True))
        self.notify_cancel(conn, job_id)

    def set_max_attempts(self, conn: sa.Connection, job_id: uuid.UUID, max_attempts: int) -> None:
        conn.execute(J.update().where(J.c.id == job_id).values(max_attempts=max_attempts))

    def write_events(self, conn: sa.Connection, events: Sequence[Event]) -> None:
        rows = [e for e in events if isinstance(e, JobEvent)]
        if rows:
            self._insert_events(conn, rows)

    def stage(
        self,
        conn: sa.Connection,
        now: datetime,
        limit: int = 5000,
        *,
        due_by: datetime | None = None,
    ) -> list[JobStaged]:
        """Make scheduled and retryable jobs due by ``due_by`` (default: now) available.

        Jobs pulled forward (due after ``now``) get ``scheduled_at = now`` so they can be
        claimed at once (``drain(with_scheduled=True)``).
        """
        ids = (
            sa.select(J.c.id)
            .where(J.c.state.in_([s.value for s in STAGE[0]]), J.c.scheduled_at <= (due_by or now))
            .limit(limit)
            .scalar_subquery()
        )
        pulled_forward = sa.case((J.c.scheduled_at > now, now), else_=J.c.scheduled_at)
        stmt = (
            J.update()
            .where(J.c.id.in_(ids))
            .values(state=STAGE[1].value, scheduled_at=pulled_forward)
            .returning(*JOB_COLUMNS)
        )
        events = [JobStaged(at=now, job=job_from_row(r)) for r in conn.execute(stmt)]
        self.write_events(conn, events)
        self.notify(conn, {e.job.queue for e in events})
        return events

    def orphaned(self, conn: sa.Connection, stale_before: datetime) -> list[Job]:
        """Executing jobs whose worker is gone or has stopped heartbeating (locked)."""
        alive = sa.select(W.c.id).where(W.c.heartbeat_at >= stale_before)
        return self.lock_jobs(
            conn, sa.and_(J.c.state == "executing", J.c.attempted_by.not_in(alive))
        )


def _available_queues(jobs: Iterable[Job]) -> set[str]:
    return {j.queue for j in jobs if j.state is JobState.AVAILABLE}
