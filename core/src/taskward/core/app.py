"""The application object: task registry, enqueue, and job control."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, overload

import sqlalchemy as sa

from taskward.core import migrate, schema
from taskward.core._gc import deferred_gc
from taskward.core.bus import EventBus
from taskward.core.clock import Clock, SystemClock
from taskward.core.db import check_connection, create_engine, mask_url, prepare_engine
from taskward.core.enqueue import build_job, released_key
from taskward.core.errors import DatabaseUnavailableError, JobNotFoundError, UnknownTaskError
from taskward.core.events import (
    Event,
    JobCancelled,
    JobEvent,
    JobStaged,
    QueuePaused,
    QueueResumed,
)
from taskward.core.job import Job
from taskward.core.limits import Limit, Limits
from taskward.core.retry import Backoff, ExceptionTypes, Exponential, RetryPolicy
from taskward.core.schedules import Schedules
from taskward.core.states import WAITING, JobState
from taskward.core.store import store_for
from taskward.core.task import EnqueueOptions, JobSpec, Task, TaskPolicy, Unique
from taskward.core.workflows import Workflows
from taskward.core.workflows.plan import Plan as DependencyPlan
from taskward.core.workflows.plan import plan as plan_dependencies

if TYPE_CHECKING:
    from taskward.core.worker import Middleware, Worker
    from taskward.core.worker.loops import Loop

J = schema.jobs
EnqueueHook = Callable[[Sequence[Job], Callable[[Sequence[Job]], list[Job]]], list[Job]]


class Taskward:
    """One Taskward application: a database, its tasks and its event bus."""

    def __init__(
        self,
        database: str | sa.Engine = "sqlite:///taskward.db",
        *,
        clock: Clock | None = None,
        allow_unregistered: bool = False,
    ) -> None:
        self.engine = (
            prepare_engine(database) if isinstance(database, sa.Engine) else create_engine(database)
        )
        self.store = store_for(self.engine)
        self.clock: Clock = clock or SystemClock()
        self.bus = EventBus()
        self.tasks: dict[str, Task[Any, Any]] = {}
        self.allow_unregistered = allow_unregistered
        self.enqueue_hooks: list[EnqueueHook] = []
        #: Middleware every worker of this app runs outermost (instrumentation adds its own).
        self.middleware: list[Middleware] = []
        self._wakeups: list[Callable[[set[str]], None]] = []
        # Events of jobs enqueued in a caller's transaction, emitted when it commits.
        self._pending_events: weakref.WeakKeyDictionary[sa.Connection, list[JobEvent]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        #: Cron schedules, fired by the leader (see :mod:`taskward.core.schedules`).
        self.schedules = Schedules(self)
        #: Jobs that wait for other jobs (see :mod:`taskward.core.workflows`).
        self.workflows = Workflows(self)
        #: Rate limits and concurrency caps (see :mod:`taskward.core.limits`).
        self.limits = Limits(self)
        self.store.transition_hooks += [
            self.workflows.on_transitions,
            self.schedules.record_success,
        ]

    @property
    def url(self) -> str:
        """The database URL with its password masked."""
        return mask_url(self.engine.url)

    # -- tasks ---------------------------------------------------------------------
    @overload
    def task(self, fn: Callable[..., Any], /) -> Task[Any, Any]: ...
    @overload
    def task(
        self, fn: None = None, /, **policy: Any
    ) -> Callable[[Callable[..., Any]], Task[Any, Any]]: ...

    def task(self, fn: Callable[..., Any] | None = None, /, **policy: Any) -> Any:
        """Register a task: ``@app.task`` or ``@app.task(queue=..., max_attempts=...)``.

        Policy keywords: ``name``, ``queue``, ``priority``, ``max_attempts``, ``backoff``,
        ``retry_on``, ``never_retry_on``, ``timeout``, ``unique`` (:class:`Unique`),
        ``tags``, ``on_retry``, ``limit`` (a :class:`~taskward.core.limits.Limit` on the task).
        """

        def register(func: Callable[..., Any]) -> Task[Any, Any]:
            name = policy.pop("name", None) or f"{func.__module__}.{func.__qualname__}"
            task: Task[Any, Any] = Task(self, func, name, make_policy(**policy))
            self.tasks[name] = task
            if task.policy.limit is not None:
                self.limits.add(replace(task.policy.limit, task=name))
            return task

        return register(fn) if fn is not None else register

    def policy_for(self, name: str) -> TaskPolicy:
        task = self.tasks.get(name)
        if task is not None:
            return task.policy
        if self.allow_unregistered:
            return TaskPolicy()
        raise UnknownTaskError(name, list(self.tasks))

    # -- enqueue -------------------------------------------------------------------
    def enqueue(
        self,
        task: str,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> Job:
        """Enqueue a task by name (see :class:`EnqueueOptions` for ``options``)."""
        connection = options.pop("connection", None)
        spec = JobSpec(task, tuple(args), dict(kwargs or {}), EnqueueOptions(**options))
        return self.enqueue_many([spec], connection=connection)[0]

    def enqueue_many(
        self, specs: Iterable[JobSpec], *, connection: sa.Connection | None = None
    ) -> list[Job]:
        """Validate every spec, then insert them all in one transaction.

        With ``connection`` the jobs join the caller's transaction: they exist only if
        it commits, and their events are emitted only then. A unique job whose key is
        taken returns the existing job instead of a new one.
        """
        specs = list(specs)
        with deferred_gc(len(specs)):
            now = self.clock.now()
            jobs = [build_job(s, self.policy_for(s.task), now) for s in specs]
            jobs, dependencies = plan_dependencies(specs, jobs)
            write = self._writer(connection, dependencies)
            for hook in reversed(self.enqueue_hooks):
                write = _bind_hook(hook, write)
            return write(jobs)

    async def enqueue_many_async(
        self, specs: Iterable[JobSpec], *, connection: sa.Connection | None = None
    ) -> list[Job]:
        """``enqueue_many`` without blocking the event loop.

        With ``connection`` the jobs join the caller's transaction, on the caller's
        thread (a connection belongs to one thread; the caller holds it open anyway).
        """
        specs = list(specs)
        if connection is not None:
            return self.enqueue_many(specs, connection=connection)
        return await asyncio.to_thread(self.enqueue_many, specs)

    def _writer(
        self, connection: sa.Connection | None, dependencies: DependencyPlan | None = None
    ) -> Callable[[Sequence[Job]], list[Job]]:
        def write(jobs: Sequence[Job]) -> list[Job]:
            now = self.clock.now()
            if connection is not None:
                events, existing = self._insert(connection, jobs, now, dependencies)
                self.emit_on_commit(connection, events)
            else:
                with self.connect() as conn:
                    events, existing = self._insert(conn, jobs, now, dependencies)
                self.emit(events)
            latest = {e.job.id: e.job for e in events}
            return [latest.get(j.id) or existing[j.unique_key or ""] for j in jobs]

        return write

    def _insert(
        self,
        conn: sa.Connection,
        jobs: Sequence[Job],
        now: datetime,
        dependencies: DependencyPlan | None,
    ) -> tuple[list[JobEvent], dict[str, Job]]:
        """Insert ``jobs``; with dependencies, link them in the same transaction."""
        if dependencies is not None:
            dependencies.check(conn)
        events = self.store.insert(conn, jobs, now)
        existing = self._existing(conn, jobs, events)
        if dependencies is not None:
            inserted = {e.job.id for e in events}
            ids = [j.id if j.id in inserted else existing[j.unique_key or ""].id for j in jobs]
            events += dependencies.link(self.store, conn, ids, inserted, now)
        return events, existing

    def _existing(
        self, conn: sa.Connection, jobs: Sequence[Job], events: Sequence[JobEvent]
    ) -> dict[str, Job]:
        if len(events) == len(jobs):
            return {}
        inserted = {e.job.id for e in events}
        keys = [j.unique_key for j in jobs if j.id not in inserted and j.unique_key]
        return self.store.find_by_unique_keys(conn, keys)

    def emit_on_commit(self, connection: sa.Connection, events: Sequence[JobEvent]) -> None:
        """Emit ``events`` when ``connection``'s transaction commits; drop them on rollback."""
        pending = self._pending_events.get(connection)
        if pending is None:
            pending = self._pending_events[connection] = []

            def on_commit(_conn: sa.Connection) -> None:
                ready = list(pending)
                pending.clear()
                self.emit(ready)

            sa.event.listen(connection, "commit", on_commit)
            sa.event.listen(connection, "rollback", lambda _conn: pending.clear())
        pending.extend(events)

    # -- events and wake-ups -------------------------------------------------------
    def emit(self, events: Sequence[Event]) -> None:
        """Publish committed events and wake in-process workers of now-available queues."""
        self.bus.emit(events)
        ready = {
            e.job.queue
            for e in events
            if isinstance(e, JobEvent) and e.job.state is JobState.AVAILABLE
        }
        if ready:
            for wake in list(self._wakeups):
                wake(ready)

    def add_wakeup(self, callback: Callable[[set[str]], None]) -> Callable[[], None]:
        """Call ``callback(queues)`` when jobs become available in this process."""
        with self._lock:
            self._wakeups.append(callback)

        def remove() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._wakeups.remove(callback)

        return remove

    # -- database ------------------------------------------------------------------
    @contextlib.contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        """A transaction, with connection failures reported as one clear line."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.DBAPIError as exc:
            if exc.connection_invalidated or isinstance(exc, sa.exc.OperationalError):
                reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
                raise DatabaseUnavailableError(self.url, reason) from exc
            raise

    def migrate(self) -> None:
        """Create or upgrade the schema (``taskward db upgrade``)."""
        check_connection(self.engine)
        migrate.upgrade(self.engine)

    def check_schema(self) -> None:
        """Refuse to run on an unreachable database or an out-of-date schema."""
        check_connection(self.engine)
        migrate.ensure_current(self.engine)

    # -- jobs ----------------------------------------------------------------------
    def get_job(self, job_id: uuid.UUID | str) -> Job:
        with self.connect() as conn:
            job = self.store.get(conn, _uuid(job_id))
        if job is None:
            raise JobNotFoundError(job_id)
        return job

    def result(self, job_id: uuid.UUID | str) -> Any:
        """The stored result of a completed job (``None`` until it completes)."""
        return self.get_job(job_id).result

    def list_jobs(self, **filters: Any) -> list[Job]:
        with self.connect() as conn:
            return self.store.list_jobs(conn, **filters)

    def job_events(self, job_id: uuid.UUID | str) -> list[dict[str, Any]]:
        with self.connect() as conn:
            return self.store.events_for(conn, _uuid(job_id))

    def cancel(self, job_id: uuid.UUID | str, reason: str = "cancelled by request") -> Job:
        """Cancel a waiting job now, or ask the worker running it to stop it."""
        now = self.clock.now()
        with self.connect() as conn:
            jobs = self.store.lock_jobs(conn, J.c.id == _uuid(job_id))
            if not jobs:
                raise JobNotFoundError(job_id)
            job = jobs[0]
            events: list[JobEvent] = []
            if job.state in WAITING:
                job = job.evolve(
                    state=JobState.CANCELLED,
                    finished_at=now,
                    unique_key=released_key(job.unique_key),
                )
                events = [JobCancelled(at=now, job=job, reason=reason)]
                self.store.write_transitions(conn, events)
            elif job.state is JobState.EXECUTING and not job.cancel_requested:
                conn.execute(J.update().where(J.c.id == job.id).values(cancel_requested=True))
                self.store.notify_cancel(conn, job.id)
                job = job.evolve(cancel_requested=True)
        self.emit(events)
        return job

    def retry(self, job_id: uuid.UUID | str) -> Job:
        """Make a finished or waiting job available to run now (an operator's retry)."""
        now = self.clock.now()
        with self.connect() as conn:
            jobs = self.store.lock_jobs(conn, J.c.id == _uuid(job_id))
            if not jobs:
                raise JobNotFoundError(job_id)
            job = jobs[0]
            if job.state is JobState.EXECUTING or job.state is JobState.AVAILABLE:
                return job
            job = job.evolve(
                state=JobState.AVAILABLE,
                scheduled_at=now,
                finished_at=None,
                max_attempts=max(job.max_attempts, job.attempt + 1),
            )
            conn.execute(J.update().where(J.c.id == job.id).values(max_attempts=job.max_attempts))
            events = [JobStaged(at=now, job=job)]
            self.store.write_transitions(conn, events)
        self.emit(events)
        return job

    def pause_queue(self, queue: str) -> None:
        self._set_paused(queue, True)

    def resume_queue(self, queue: str) -> None:
        self._set_paused(queue, False)

    def _set_paused(self, queue: str, paused: bool) -> None:
        now = self.clock.now()
        with self.connect() as conn:
            self.store.set_paused(conn, queue, paused, now)
            if not paused:
                self.store.notify(conn, [queue])
        event = QueuePaused(at=now, queue=queue) if paused else QueueResumed(at=now, queue=queue)
        self.bus.emit([event])
        if not paused:
            for wake in list(self._wakeups):
                wake({queue})

    def worker(
        self, queues: Mapping[str, int] | Iterable[str] | None = None, **options: Any
    ) -> Worker:
        """A worker for ``queues`` (name → concurrency, or names at concurrency 10)."""
        from taskward.core.worker import Worker

        return Worker(self, queues, **options)

    def maintenance_loops(self, worker: Worker) -> list[Loop]:
        """Loops the features add to every worker's maintenance (the scheduler, ...)."""
        scaling = worker.autoscaler.loops() if worker.autoscaler else []
        return [*self.schedules.loops(worker), *self.limits.loops(worker), *scaling]

    def close(self) -> None:
        self.bus.close()
        self.engine.dispose()


def make_policy(
    *,
    queue: str = "default",
    priority: int = 0,
    max_attempts: int = 20,
    backoff: Backoff | Callable[[int], float] | None = None,
    retry_on: ExceptionTypes | None = None,
    never_retry_on: ExceptionTypes = (),
    timeout: float | None = None,
    unique: Unique | None = None,
    tags: Iterable[str] = (),
    on_retry: Callable[[Job, BaseException], None] | None = None,
    limit: Limit | None = None,
) -> TaskPolicy:
    """Build a :class:`TaskPolicy`, checked the same way enqueue checks a call."""
    from taskward.core.enqueue import build_job

    policy = TaskPolicy(
        queue=queue,
        priority=priority,
        max_attempts=max_attempts,
        retry=RetryPolicy(
            backoff=backoff or Exponential(), retry_on=retry_on, never_retry_on=never_retry_on
        ),
        timeout=timeout,
        unique=replace(unique) if unique else None,
        tags=tuple(tags),
        on_retry=on_retry,
        limit=limit,
    )
    # Validate the defaults once at declaration time (fails with the field's name).
    build_job(JobSpec("_check"), replace(policy, unique=None), SystemClock().now())
    return policy


def _bind_hook(
    hook: EnqueueHook, inner: Callable[[Sequence[Job]], list[Job]]
) -> Callable[[Sequence[Job]], list[Job]]:
    return lambda jobs: hook(jobs, inner)


def _uuid(value: uuid.UUID | str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except ValueError:
        raise JobNotFoundError(value) from None
