"""The admin service: every change an operator makes, made one way for the CLI and the API.

Each change writes an ``taskward.admin.*`` event naming the actor to the outbox
(beside the job events it caused) and emits it after commit. Bulk actions walk
the filter's ids in bounded batches of set-based statements, one transaction
each, up to the newest job that matched when they started, and report progress.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa

from taskward.core.clock import Clock
from taskward.core.enqueue import released_key
from taskward.core.errors import JobNotFoundError, ScheduleNotFoundError
from taskward.core.events import (
    AdminEvent,
    AdminJobsChanged,
    AdminQueueChanged,
    AdminScheduleChanged,
    Event,
    QueuePaused,
    QueueResumed,
)
from taskward.core.job import Job
from taskward.core.schedules import ScheduleInfo, Schedules
from taskward.core.store import SqlStore, bulk, jobquery
from taskward.core.store.jobquery import JobFilter
from taskward.core.task import EnqueueOptions, JobSpec
from taskward.ops.errors import OpsError

if TYPE_CHECKING:
    from taskward.core import Taskward

J = jobquery.J
#: Called with the number of jobs done so far.
Progress = Callable[[int], None]
Connect = Callable[[], AbstractContextManager[sa.Connection]]


class EnqueueMany(Protocol):
    def __call__(
        self, specs: Iterable[JobSpec], *, connection: sa.Connection | None = None
    ) -> list[Job]: ...


#: Which states each bulk action can change.
ELIGIBLE = {"retry": bulk.RETRY_FROM, "cancel": bulk.CANCEL_FROM, "delete": bulk.DELETE_FROM}


class ScheduleNotLoadedError(OpsError):
    """The schedule's arguments are known only to the app that defines it."""

    def __init__(self, name: str) -> None:
        super().__init__(f"schedule {name!r} is not defined by the loaded app: pass --app")


@dataclass(frozen=True, slots=True)
class BulkResult:
    """What a bulk action did: how many jobs matched at the start, how many it changed."""

    action: str
    matched: int
    changed: int
    #: Executing jobs asked to stop (cancel only): their workers cancel them.
    stopping: int = 0


class Admin:
    """Retry, cancel, delete and enqueue jobs; pause and resume queues and schedules."""

    def __init__(
        self,
        *,
        connect: Connect,
        store: SqlStore,
        clock: Clock,
        emit: Callable[[Sequence[Event]], None],
        schedules: Schedules,
        enqueue_many: EnqueueMany,
        actor: str,
        batch_size: int = 2000,
    ) -> None:
        self._connect = connect
        self._store = store
        self._clock = clock
        self._emit = emit
        self._schedules = schedules
        self._enqueue_many = enqueue_many
        self.actor = actor
        self.batch_size = batch_size

    @classmethod
    def of(cls, app: Taskward, actor: str, **options: Any) -> Admin:
        """The admin service of ``app``, acting as ``actor``."""
        return cls(
            connect=app.connect,
            store=app.store,
            clock=app.clock,
            emit=app.emit,
            schedules=app.schedules,
            enqueue_many=app.enqueue_many,
            actor=actor,
            **options,
        )

    # -- jobs ----------------------------------------------------------------------
    def count(self, action: str, where: JobFilter) -> int:
        """How many jobs ``action`` (retry, cancel, delete) would change now."""
        with self._connect() as conn:
            return jobquery.count(conn, self._condition(action, where))

    def retry(self, where: JobFilter, progress: Progress | None = None) -> BulkResult:
        """Make the matching jobs available now (an extra attempt if they used them all)."""

        def apply(conn: sa.Connection, ids: list[uuid.UUID]) -> tuple[int, list[Event], int]:
            return bulk.retry(self._store, conn, ids, self._clock.now(), self.actor), [], 0

        return self._bulk("retry", where, apply, progress)

    def cancel(
        self, where: JobFilter, progress: Progress | None = None, reason: str | None = None
    ) -> BulkResult:
        """Cancel the matching waiting jobs; ask the workers of executing ones to stop them."""
        why = reason or f"cancelled by {self.actor}"

        def apply(conn: sa.Connection, ids: list[uuid.UUID]) -> tuple[int, list[Event], int]:
            events, stopping = bulk.cancel(
                self._store, conn, ids, self._clock.now(), why, released_key
            )
            return len(events), list(events), stopping

        return self._bulk("cancel", where, apply, progress)

    def delete(self, where: JobFilter, progress: Progress | None = None) -> BulkResult:
        """Delete the matching jobs that are not executing, with their logs and events."""

        def apply(conn: sa.Connection, ids: list[uuid.UUID]) -> tuple[int, list[Event], int]:
            return bulk.delete(self._store, conn, ids), [], 0

        return self._bulk("delete", where, apply, progress)

    def enqueue(
        self,
        task: str,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> Job:
        """Enqueue one job of ``task`` (see :class:`EnqueueOptions`), on the actor's behalf."""
        spec = JobSpec(task, tuple(args), dict(kwargs or {}), EnqueueOptions(**options))
        return self._enqueue_one(spec, "enqueue", {"task": task})

    def _enqueue_one(self, spec: JobSpec, action: str, target: dict[str, Any]) -> Job:
        """Enqueue ``spec`` and record who did it, in one transaction."""
        meta = {**(spec.options.meta or {}), "enqueued_by": self.actor}
        spec = replace(spec, options=replace(spec.options, meta=meta))
        kind = AdminScheduleChanged if action == "run" else AdminJobsChanged
        with self._connect() as conn:
            [job] = self._enqueue_many([spec], connection=conn)
            event = kind(
                at=self._clock.now(),
                actor=self.actor,
                action=action,
                target={**target, "job_id": str(job.id)},
                count=1,
            )
            bulk.record(conn, event, job.queue)
        self._emit([event])
        return job

    # -- queues --------------------------------------------------------------------
    def pause_queue(self, queue: str) -> None:
        """Workers stop claiming from ``queue`` (running jobs finish) until it is resumed."""
        self._set_paused(queue, True)

    def resume_queue(self, queue: str) -> None:
        self._set_paused(queue, False)

    def _set_paused(self, queue: str, paused: bool) -> None:
        now = self._clock.now()
        action = "pause" if paused else "resume"
        admin = AdminQueueChanged(
            at=now, actor=self.actor, action=action, target={"queue": queue}, count=0
        )
        with self._connect() as conn:
            self._store.set_paused(conn, queue, paused, now)
            bulk.record(conn, admin, queue)
        changed = QueuePaused(at=now, queue=queue) if paused else QueueResumed(at=now, queue=queue)
        self._emit([changed, admin])

    # -- schedules -----------------------------------------------------------------
    def pause_schedule(self, name: str) -> ScheduleInfo:
        """Stop firing ``name`` until it is resumed (from any process)."""
        info = self._schedules.pause(name)
        self._record(self._schedule_event("pause", name), None)
        return info

    def resume_schedule(self, name: str) -> ScheduleInfo:
        """Fire ``name`` again from its next fire time; runs due while paused are skipped."""
        info = self._schedules.resume(name)
        self._record(self._schedule_event("resume", name), None)
        return info

    def run_schedule(self, name: str) -> Job:
        """Enqueue the schedule's job now, outside its calendar (its fire times are kept)."""
        self._schedules.get(name)  # ScheduleNotFoundError names it
        schedule = self._schedules.defined.get(name)
        if schedule is None:
            raise ScheduleNotLoadedError(name)
        spec = schedule.spec
        meta = {**(spec.options.meta or {}), "schedule": name}
        spec = replace(spec, options=replace(spec.options, meta=meta))
        return self._enqueue_one(spec, "run", {"schedule": name})

    def _schedule_event(self, action: str, name: str) -> AdminEvent:
        return AdminScheduleChanged(
            at=self._clock.now(), actor=self.actor, action=action, target={"schedule": name}
        )

    # -- helpers -------------------------------------------------------------------
    def _condition(self, action: str, where: JobFilter) -> sa.ColumnElement[bool]:
        return sa.and_(where.where(self._store.dialect), J.c.state.in_(ELIGIBLE[action]))

    def _bulk(
        self,
        action: str,
        where: JobFilter,
        apply: Callable[[sa.Connection, list[uuid.UUID]], tuple[int, list[Event], int]],
        progress: Progress | None,
    ) -> BulkResult:
        condition = self._condition(action, where)
        with self._connect() as conn:
            matched = jobquery.count(conn, condition)
            newest = jobquery.newest_id(conn, condition)
        if where.ids and not matched:
            self._missing(where.ids)
        changed = stopping = 0
        try:
            if newest is not None:
                for ids in self._batches(sa.and_(condition, J.c.id <= newest)):
                    with self._connect() as conn:
                        n, events, asked = apply(conn, ids)
                    self._emit(events)
                    changed, stopping = changed + n, stopping + asked
                    if progress is not None:
                        progress(changed + stopping)
        finally:
            target = where.describe()
            queue = where.queues[0] if len(where.queues) == 1 else None
            self._record(
                AdminJobsChanged(
                    at=self._clock.now(),
                    actor=self.actor,
                    action=action,
                    target=target,
                    count=changed + stopping,
                ),
                queue,
            )
        return BulkResult(action, matched, changed, stopping)

    def _batches(self, condition: sa.ColumnElement[bool]) -> Iterator[list[uuid.UUID]]:
        after: uuid.UUID | None = None
        while True:
            with self._connect() as conn:
                ids = jobquery.next_ids(conn, condition, after, self.batch_size)
            if not ids:
                return
            yield ids
            after = ids[-1]

    def _missing(self, ids: Sequence[uuid.UUID]) -> None:
        """Raise JobNotFoundError for an id that does not exist (not merely ineligible)."""
        with self._connect() as conn:
            found = set(conn.scalars(sa.select(J.c.id).where(J.c.id.in_(ids))))
        for job_id in ids:
            if job_id not in found:
                raise JobNotFoundError(job_id)

    def _record(self, event: AdminEvent, queue: str | None) -> None:
        with self._connect() as conn:
            bulk.record(conn, event, queue)
        self._emit([event])


__all__ = ["Admin", "BulkResult", "ScheduleNotFoundError", "ScheduleNotLoadedError"]
