"""The application object: task registry, enqueue, job control, and the composition root.

The app builds its plugins (schedules, workflows, limits and any passed in) once,
hands them to the store and to every worker it makes, and gives each plugin only
the narrow collaborators it needs (see :mod:`taskward.core.ports`).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, overload

import sqlalchemy as sa

from taskward.core import migrate
from taskward.core._gc import deferred_gc
from taskward.core.app import control
from taskward.core.app.emitter import EventEmitter
from taskward.core.app.inserts import insert
from taskward.core.app.policy import make_policy
from taskward.core.app.upkeep import RetentionPolicy, upkeep
from taskward.core.bus import EventBus
from taskward.core.clock import Clock, SystemClock
from taskward.core.db import check_connection, create_engine, default_url, mask_url, prepare_engine
from taskward.core.enqueue import build_job
from taskward.core.errors import DatabaseUnavailableError, JobNotFoundError, UnknownTaskError
from taskward.core.events import Event, JobEvent, QueuePaused, QueueResumed
from taskward.core.job import Job
from taskward.core.limits import Limits
from taskward.core.ports import Plugin
from taskward.core.schedules import Schedules
from taskward.core.store import SqlStore, store_for
from taskward.core.task import EnqueueOptions, JobSpec, Task, TaskPolicy
from taskward.core.worker import Middleware, Worker
from taskward.core.workflows import Workflows
from taskward.core.workflows.plan import Plan as DependencyPlan
from taskward.core.workflows.plan import plan as plan_dependencies

EnqueueHook = Callable[[Sequence[Job], Callable[[Sequence[Job]], list[Job]]], list[Job]]


class Taskward:
    """One Taskward application: a database, its tasks, its plugins and its event bus."""

    def __init__(
        self,
        database: str | sa.Engine | None = None,
        *,
        clock: Clock | None = None,
        allow_unregistered: bool = False,
        plugins: Sequence[Plugin] = (),
        retention: RetentionPolicy | None = None,
    ) -> None:
        self.engine = _engine(default_url() if database is None else database)
        self.clock: Clock = clock or SystemClock()
        self.bus = EventBus()
        self.events = EventEmitter(self.bus)
        self.tasks: dict[str, Task[Any, Any]] = {}
        self.allow_unregistered = allow_unregistered
        self.enqueue_hooks: list[EnqueueHook] = []
        #: Middleware every worker of this app runs outermost (instrumentation adds its own).
        self.middleware: list[Middleware] = []
        #: Jobs that wait for other jobs (see :mod:`taskward.core.workflows`).
        self.workflows = Workflows(connect=self.connect, emitter=self.events, enqueuer=self)
        #: Cron schedules, fired by the leader (see :mod:`taskward.core.schedules`).
        self.schedules = Schedules(connect=self.connect, clock=self.clock, enqueuer=self)
        #: Rate limits and concurrency caps (see :mod:`taskward.core.limits`).
        self.limits = Limits(connect=self.connect, clock=self.clock, emitter=self.events)
        self.retention, self.consumers = upkeep(self, self.events, retention, plugins)
        features = (self.workflows, self.schedules, self.limits, self.retention, self.consumers)
        self.plugins: tuple[Plugin, ...] = (*features, *plugins)  # hook order; fixed
        self.store: SqlStore = store_for(self.engine, self.plugins)

    @property
    def url(self) -> str:
        """The database URL with its password masked."""
        return mask_url(self.engine.url)

    def use_database(self, database: str | sa.URL | sa.Engine) -> None:
        """Move this app onto another database, its store rebuilt from the same plugins.

        For a process that is handed the database to use (``taskward worker --database``)
        after the app module built the app; call it before any worker starts.
        """
        self.engine.dispose()
        self.engine = _engine(database)
        self.store = store_for(self.engine, self.plugins)

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
            limit = policy.pop("limit", None)
            task: Task[Any, Any] = Task(self, func, name, make_policy(**policy))
            self.tasks[name] = task
            if limit is not None:
                self.limits.add(replace(limit, task=name))
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
                events, existing = insert(self.store, connection, jobs, now, dependencies)
                self.emit_on_commit(connection, events)
            else:  # one statement needs no transaction: one round trip, not three
                one = dependencies is None and self.store.inserts_in_one_statement(jobs)
                with self.connect(autocommit=one) as conn:
                    events, existing = insert(self.store, conn, jobs, now, dependencies)
                self.emit(events)
            latest = {e.job.id: e.job for e in events}
            return [latest.get(j.id) or existing[j.unique_key or ""] for j in jobs]

        return write

    # -- events and wake-ups -------------------------------------------------------
    def emit(self, events: Sequence[Event]) -> None:
        """Publish committed events and wake in-process workers of now-available queues."""
        self.events.emit(events)

    def emit_on_commit(self, connection: sa.Connection, events: Sequence[JobEvent]) -> None:
        """Emit ``events`` when ``connection``'s transaction commits; drop them on rollback."""
        self.events.emit_on_commit(connection, events)

    def add_wakeup(self, callback: Callable[[set[str]], None]) -> Callable[[], None]:
        """Call ``callback(queues)`` when jobs become available in this process."""
        return self.events.add_wakeup(callback)

    # -- database ------------------------------------------------------------------
    @contextlib.contextmanager
    def connect(self, *, autocommit: bool = False) -> Iterator[sa.Connection]:
        """A transaction (``autocommit``: none, for one statement: no BEGIN/COMMIT round
        trips), with connection failures reported as one clear line."""
        try:
            with self.engine.connect() if autocommit else self.engine.begin() as conn:
                yield conn.execution_options(isolation_level="AUTOCOMMIT") if autocommit else conn
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
            job = self.store.get(conn, control.as_uuid(job_id))
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
            return self.store.events_for(conn, control.as_uuid(job_id))

    def cancel(self, job_id: uuid.UUID | str, reason: str = "cancelled by request") -> Job:
        """Cancel a waiting job now, or ask the worker running it to stop it."""
        with self.connect() as conn:
            job, events = control.cancel(
                self.store, conn, control.as_uuid(job_id), self.clock.now(), reason
            )
        self.emit(events)
        return job

    def retry(self, job_id: uuid.UUID | str) -> Job:
        """Make a finished or waiting job available to run now (an operator's retry)."""
        with self.connect() as conn:
            job, events = control.retry(self.store, conn, control.as_uuid(job_id), self.clock.now())
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
        event = QueuePaused(at=now, queue=queue) if paused else QueueResumed(at=now, queue=queue)
        self.bus.emit([event])
        if not paused:
            self.events.wake({queue})

    def worker(
        self, queues: Mapping[str, int] | Iterable[str] | None = None, **options: Any
    ) -> Worker:
        """A worker for ``queues`` (name → concurrency, or names at concurrency 10)."""
        middleware = [*self.middleware, *options.pop("middleware", ())]  # the app's outermost
        return Worker(self, queues, plugins=self.plugins, middleware=middleware, **options)

    def close(self) -> None:
        self.bus.close()
        self.engine.dispose()


def _engine(database: str | sa.URL | sa.Engine) -> sa.Engine:
    return prepare_engine(database) if isinstance(database, sa.Engine) else create_engine(database)


def _bind_hook(
    hook: EnqueueHook, inner: Callable[[Sequence[Job]], list[Job]]
) -> Callable[[Sequence[Job]], list[Job]]:
    return lambda jobs: hook(jobs, inner)
