"""The SQL store: every queue operation as a few batched statements.

Dialect differences (row locking on claim, wake-up notifications, upsert
syntax) stay in :mod:`.sqlite` and :mod:`.postgresql`; everything else is
shared here. Methods that change jobs write their events to the outbox in the
same transaction and return them; callers emit them after commit.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.sql.dml import Insert

from taskward.core import schema
from taskward.core.events import Event, JobEvent, JobInserted, JobStaged, JobStarted
from taskward.core.job import Job
from taskward.core.states import JobState
from taskward.core.store._rows import JOB_COLUMNS, insert_values, job_from_row

J = schema.jobs
E = schema.job_events
W = schema.workers
Q = schema.queues
L = schema.leases

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


class SqlStore:
    """Queue storage on SQLAlchemy Core; subclassed once per dialect."""

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
                J.c.state == "available",
                J.c.queue == sa.bindparam("b_queue"),
                J.c.scheduled_at <= sa.bindparam("b_now"),
            )
            .order_by(J.c.priority, J.c.scheduled_at, J.c.id)
            .limit(sa.bindparam("b_limit"))
        )
        self._claim_best = self._claim(best.scalar_subquery())
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

    # -- dialect hooks -------------------------------------------------------------
    def _insert_into(self, table: sa.Table) -> Insert:
        """An INSERT with the dialect's ``ON CONFLICT`` support."""
        raise NotImplementedError

    def _insert_new(self, conn: sa.Connection, events: Sequence[JobEvent], wake: set[str]) -> None:
        """Insert the jobs of ``events`` (none with a unique key) and the events, batched,
        and :meth:`notify` the queues in ``wake``."""
        raise NotImplementedError

    def _insert_events(self, conn: sa.Connection, events: Sequence[JobEvent]) -> None:
        """Append events to the outbox, batched."""
        raise NotImplementedError

    def _write_snapshots(self, conn: sa.Connection, events: Sequence[JobEvent]) -> None:
        """Write each event's job snapshot, then the events to the outbox, batched."""
        raise NotImplementedError

    def id_in(
        self,
        column: sa.ColumnElement[uuid.UUID],
        ids: Sequence[uuid.UUID] | None = None,
        *,
        name: str | None = None,
    ) -> sa.ColumnElement[bool]:
        """``column IN ids`` for a batch of ids, in the form this dialect runs fastest.

        With ``name`` instead of ``ids``, a placeholder given at execution (``{name: ids}``).
        """
        return column.in_(sa.bindparam(name, ids, expanding=True))

    def _lock_for_claim(self, select: sa.Select[Any]) -> sa.Select[Any]:
        return select

    def _lock_rows(self, select: sa.Select[Any]) -> sa.Select[Any]:
        return select

    def notify(self, conn: sa.Connection, queues: Iterable[str]) -> None:
        """Wake workers of ``queues`` when ``conn`` commits (no-op where unsupported)."""

    def notify_cancel(self, conn: sa.Connection, job_id: uuid.UUID) -> None:
        """Tell the worker running ``job_id`` to stop it, on commit (else it polls)."""

    async def listen(
        self,
        on_queues: Callable[[set[str] | None], None],
        on_cancel: Callable[[uuid.UUID], object],
        stopping: asyncio.Event,
        on_listening: Callable[[], object] = lambda: None,
    ) -> None:
        """Until ``stopping``: call ``on_queues`` when other processes make jobs available
        (``None``: maybe any queue) and ``on_cancel`` when one asks to cancel a job.

        The dialect's way (``LISTEN``, polling a file); without one, return at once and
        let the worker poll. ``on_listening`` runs after every (re)connect.
        """

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
        self.write_events(conn, events)
        return events

    def _claim(self, ids: Any) -> sa.Update:
        """Move the jobs ``ids`` selects (a list or a subquery) to executing."""
        return (
            J.update()
            .where(J.c.id.in_(ids))
            .values(
                state="executing",
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
        return _select_jobs(where, limit)

    def write_transitions(
        self, conn: sa.Connection, events: Sequence[JobEvent], *, hooks: bool = True
    ) -> None:
        """Persist each event's job snapshot and the events themselves, batched.

        ``hooks=False`` skips :attr:`transition_hooks` (for a hook's own writes).
        """
        if not events:
            return
        self._write_snapshots(conn, events)
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
            .where(J.c.state.in_(["scheduled", "retryable"]), J.c.scheduled_at <= (due_by or now))
            .limit(limit)
            .scalar_subquery()
        )
        pulled_forward = sa.case((J.c.scheduled_at > now, now), else_=J.c.scheduled_at)
        stmt = (
            J.update()
            .where(J.c.id.in_(ids))
            .values(state="available", scheduled_at=pulled_forward)
            .returning(*JOB_COLUMNS)
        )
        events = [JobStaged(at=now, job=job_from_row(r)) for r in conn.execute(stmt)]
        self.write_events(conn, events)
        self.notify(conn, {e.job.queue for e in events})
        return events

    # -- reading -------------------------------------------------------------------
    def get(self, conn: sa.Connection, job_id: uuid.UUID) -> Job | None:
        row = conn.execute(sa.select(*JOB_COLUMNS).where(J.c.id == job_id)).first()
        return job_from_row(row) if row else None

    def list_jobs(
        self,
        conn: sa.Connection,
        *,
        queue: str | None = None,
        state: str | None = None,
        task: str | None = None,
        trace_id: str | None = None,
        before: uuid.UUID | None = None,
        limit: int = 50,
    ) -> list[Job]:
        """Newest first, keyset-paginated by id (ids are time-ordered)."""
        stmt = sa.select(*JOB_COLUMNS).order_by(J.c.id.desc()).limit(limit)
        for column, value in (
            (J.c.queue, queue),
            (J.c.state, state),
            (J.c.task, task),
            (J.c.trace_id, trace_id),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if before is not None:
            stmt = stmt.where(J.c.id < before)
        return [job_from_row(r) for r in conn.execute(stmt)]

    def count_by_state(self, conn: sa.Connection) -> dict[tuple[str, str], int]:
        stmt = sa.select(J.c.queue, J.c.state, sa.func.count()).group_by(J.c.queue, J.c.state)
        return {(q, s): n for q, s, n in conn.execute(stmt)}

    def backlogs(
        self, conn: sa.Connection, queues: Sequence[str], now: datetime
    ) -> dict[str, tuple[int, datetime]]:
        """Per queue with work: how many jobs are available now, and the oldest one's time."""
        stmt = (
            sa.select(J.c.queue, sa.func.count(), sa.func.min(J.c.scheduled_at))
            .where(J.c.state == "available", J.c.queue.in_(sorted(queues)), J.c.scheduled_at <= now)
            .group_by(J.c.queue)
        )
        return {queue: (depth, oldest) for queue, depth, oldest in conn.execute(stmt)}

    def events_for(self, conn: sa.Connection, job_id: uuid.UUID) -> list[dict[str, Any]]:
        stmt = sa.select(E).where(E.c.job_id == job_id).order_by(E.c.id)
        return [dict(r) for r in conn.execute(stmt).mappings()]

    # -- workers, queues, leases ---------------------------------------------------
    def register_worker(
        self,
        conn: sa.Connection,
        worker_id: str,
        host: str,
        pid: int,
        queues: dict[str, int],
        now: datetime,
    ) -> None:
        conn.execute(W.delete().where(W.c.id == worker_id))
        conn.execute(
            W.insert().values(
                id=worker_id, host=host, pid=pid, queues=queues, started_at=now, heartbeat_at=now
            )
        )

    def heartbeat(self, conn: sa.Connection, worker_id: str, now: datetime) -> bool:
        """Refresh the worker's heartbeat; False if its row was removed (it was rescued)."""
        return bool(
            conn.execute(W.update().where(W.c.id == worker_id).values(heartbeat_at=now)).rowcount
        )

    def unregister_worker(self, conn: sa.Connection, worker_id: str) -> None:
        conn.execute(W.delete().where(W.c.id == worker_id))

    def workers(self, conn: sa.Connection) -> list[dict[str, Any]]:
        return [dict(r) for r in conn.execute(sa.select(W).order_by(W.c.id)).mappings()]

    def stale_workers(self, conn: sa.Connection, stale_before: datetime) -> list[str]:
        return list(conn.scalars(sa.select(W.c.id).where(W.c.heartbeat_at < stale_before)))

    def orphaned(self, conn: sa.Connection, stale_before: datetime) -> list[Job]:
        """Executing jobs whose worker is gone or has stopped heartbeating (locked)."""
        alive = sa.select(W.c.id).where(W.c.heartbeat_at >= stale_before)
        return self.lock_jobs(
            conn, sa.and_(J.c.state == "executing", J.c.attempted_by.not_in(alive))
        )

    def executing_by(
        self, conn: sa.Connection, worker_id: str, claimed_before: datetime
    ) -> list[Job]:
        """Jobs executing under ``worker_id`` whose claim is older than ``claimed_before``."""
        return jobs_where(
            conn,
            sa.and_(
                J.c.state == "executing",
                J.c.attempted_by == worker_id,
                J.c.attempted_at < claimed_before,
            ),
        )

    def delete_workers(self, conn: sa.Connection, worker_ids: Sequence[str]) -> None:
        if worker_ids:
            conn.execute(W.delete().where(W.c.id.in_(worker_ids)))

    def set_paused(self, conn: sa.Connection, queue: str, paused: bool, now: datetime) -> None:
        stmt = self._upsert(Q, {"name": queue, "paused": paused, "updated_at": now}, ["name"])
        conn.execute(stmt)

    def paused_queues(self, conn: sa.Connection) -> set[str]:
        return set(conn.scalars(sa.select(Q.c.name).where(Q.c.paused)))

    def cancel_requested(self, conn: sa.Connection, worker_id: str) -> set[uuid.UUID]:
        stmt = sa.select(J.c.id).where(
            J.c.state == "executing", J.c.attempted_by == worker_id, J.c.cancel_requested
        )
        return set(conn.scalars(stmt))

    def try_lease(
        self, conn: sa.Connection, name: str, holder: str, now: datetime, expires_at: datetime
    ) -> bool:
        """Take or renew the lease ``name``; True when ``holder`` now holds it."""
        insert = self._insert_into(L).values(name=name, holder=holder, expires_at=expires_at)
        stmt = insert.on_conflict_do_update(  # type: ignore[attr-defined]
            index_elements=[L.c.name],
            set_={"holder": holder, "expires_at": expires_at},
            where=sa.or_(L.c.holder == holder, L.c.expires_at < now),
        ).returning(L.c.holder)
        return conn.execute(stmt).scalar() == holder

    def release_lease(self, conn: sa.Connection, name: str, holder: str) -> None:
        conn.execute(L.delete().where(L.c.name == name, L.c.holder == holder))

    # -- feature tables (schedules, limits) ------------------------------------------
    def insert_missing(
        self, conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]], keys: list[str]
    ) -> None:
        """Insert ``rows``, skipping those whose ``keys`` are already taken."""
        if rows:
            stmt = self._insert_into(table).on_conflict_do_nothing(  # type: ignore[attr-defined]
                index_elements=keys
            )
            conn.execute(stmt, list(rows))

    def upsert_rows(
        self, conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]], keys: list[str]
    ) -> None:
        """Insert ``rows``, or update the other columns where ``keys`` are taken."""
        if rows:
            stmt = self._insert_into(table)
            stmt = stmt.on_conflict_do_update(  # type: ignore[attr-defined]
                index_elements=keys,
                set_={c: stmt.excluded[c] for c in rows[0] if c not in keys},  # type: ignore[attr-defined]
            )
            conn.execute(stmt, list(rows))

    # -- helpers -------------------------------------------------------------------
    def _upsert(self, table: sa.Table, values: dict[str, Any], keys: list[str]) -> Insert:
        stmt = self._insert_into(table).values(**values)
        return stmt.on_conflict_do_update(  # type: ignore[attr-defined,no-any-return]
            index_elements=keys, set_={k: v for k, v in values.items() if k not in keys}
        )


def jobs_where(conn: sa.Connection, where: sa.ColumnElement[bool]) -> list[Job]:
    """The jobs matching ``where``, oldest first, without locking them (any dialect)."""
    return [job_from_row(r) for r in conn.execute(_select_jobs(where))]


def _select_jobs(where: sa.ColumnElement[bool], limit: int | None = None) -> sa.Select[Any]:
    return sa.select(*JOB_COLUMNS).where(where).order_by(J.c.id).limit(limit)


def _available_queues(jobs: Iterable[Job]) -> set[str]:
    return {j.queue for j in jobs if j.state is JobState.AVAILABLE}
