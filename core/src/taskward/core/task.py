"""Tasks: a function plus the policies its jobs run under."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Generic, ParamSpec, Protocol, TypeVar

import sqlalchemy as sa

from taskward.core.job import Job
from taskward.core.retry import RetryPolicy

P = ParamSpec("P")
R = TypeVar("R")

MIN_PRIORITY, MAX_PRIORITY = 0, 9


@dataclass(frozen=True, slots=True, kw_only=True)
class Unique:
    """At most one job per key: while it is unfinished, or per fixed time window.

    ``key`` picks the key from the call (default: the task's args and kwargs);
    ``window`` (seconds) makes the key hold for that aligned window, finished or
    not; without a window the key is freed when the job finishes.
    """

    key: Callable[..., str] | None = None
    window: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskPolicy:
    """The defaults every job of a task starts with."""

    queue: str = "default"
    priority: int = 0
    max_attempts: int = 20
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float | None = None
    unique: Unique | None = None
    tags: tuple[str, ...] = ()
    on_retry: Callable[[Job, BaseException], None] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EnqueueOptions:
    """Per-call overrides; ``None`` means the task's default."""

    queue: str | None = None
    priority: int | None = None
    at: datetime | None = None
    in_: float | None = None
    max_attempts: int | None = None
    timeout: float | None = None
    tags: tuple[str, ...] = ()
    meta: Mapping[str, Any] | None = None
    unique_key: str | None = None
    #: A unique key kept even after the job finishes: the job is never inserted twice
    #: (schedule firings, idempotency keys). Exclusive with ``unique_key``.
    held_key: str | None = None
    #: Jobs this one waits for: existing jobs (``Job`` or id), or specs enqueued in the
    #: same ``enqueue_many`` call. See :mod:`taskward.core.workflows`.
    depends_on: Sequence[Any] = ()
    #: When a dependency is discarded or cancelled: ``"cancel"`` this job too, or ``"run"`` it.
    on_dependency_failure: str = "cancel"
    connection: sa.Connection | None = None


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A call of a task waiting to be enqueued (used by bulk enqueue and workflows)."""

    task: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    options: EnqueueOptions = EnqueueOptions()


class Enqueuer(Protocol):
    """Inserts jobs: what a task (and a feature that enqueues) is given instead of the app."""

    def policy_for(self, name: str) -> TaskPolicy:
        """The policy of the task ``name``; raises if it is not registered."""
        ...

    def enqueue_many(
        self, specs: Iterable[JobSpec], *, connection: sa.Connection | None = None
    ) -> list[Job]:
        """Insert jobs in one transaction (the caller's, with ``connection``)."""
        ...

    async def enqueue_many_async(
        self, specs: Iterable[JobSpec], *, connection: sa.Connection | None = None
    ) -> list[Job]:
        """``enqueue_many`` without blocking the event loop (the caller's transaction too)."""
        ...


class Task(Generic[P, R]):
    """A registered task. Call it to run the function directly; ``enqueue`` to queue it."""

    def __init__(
        self, enqueuer: Enqueuer, fn: Callable[P, R], name: str, policy: TaskPolicy
    ) -> None:
        self.enqueuer = enqueuer
        self.fn = fn
        self.name = name
        self.policy = policy
        self.is_async = inspect.iscoroutinefunction(fn)
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Task {self.name} queue={self.policy.queue}>"

    def spec(self, *args: Any, **kwargs: Any) -> JobSpec:
        return JobSpec(self.name, args, kwargs)

    def options(self, **options: Any) -> BoundTask:
        """Enqueue with per-call options: ``task.options(in_=60, priority=1).enqueue(...)``."""
        return BoundTask(self, EnqueueOptions(**options))

    def enqueue(self, *args: P.args, **kwargs: P.kwargs) -> Job:
        return BoundTask(self, EnqueueOptions()).enqueue(*args, **kwargs)

    async def enqueue_async(self, *args: P.args, **kwargs: P.kwargs) -> Job:
        return await BoundTask(self, EnqueueOptions()).enqueue_async(*args, **kwargs)

    def enqueue_many(
        self, calls: Iterable[tuple[Any, ...] | Mapping[str, Any] | JobSpec]
    ) -> list[Job]:
        """Enqueue many calls in one round trip; each is an args tuple, a kwargs dict or a spec."""
        return BoundTask(self, EnqueueOptions()).enqueue_many(calls)


@dataclass(frozen=True, slots=True)
class BoundTask:
    """A task with per-call options fixed."""

    task: Task[Any, Any]
    opts: EnqueueOptions

    def options(self, **options: Any) -> BoundTask:
        return BoundTask(self.task, replace(self.opts, **options))

    def spec(self, *args: Any, **kwargs: Any) -> JobSpec:
        return JobSpec(self.task.name, args, kwargs, self.opts)

    def enqueue(self, *args: Any, **kwargs: Any) -> Job:
        return self.task.enqueuer.enqueue_many(
            [self.spec(*args, **kwargs)], connection=self.opts.connection
        )[0]

    async def enqueue_async(self, *args: Any, **kwargs: Any) -> Job:
        specs = [self.spec(*args, **kwargs)]
        jobs = await self.task.enqueuer.enqueue_many_async(specs, connection=self.opts.connection)
        return jobs[0]

    def enqueue_many(
        self, calls: Iterable[tuple[Any, ...] | Mapping[str, Any] | JobSpec]
    ) -> list[Job]:
        specs = [self._as_spec(call) for call in calls]
        return self.task.enqueuer.enqueue_many(specs, connection=self.opts.connection)

    def _as_spec(self, call: tuple[Any, ...] | Mapping[str, Any] | JobSpec) -> JobSpec:
        if isinstance(call, JobSpec):
            return call
        if isinstance(call, Mapping):
            return JobSpec(self.task.name, (), call, self.opts)
        return JobSpec(self.task.name, tuple(call), {}, self.opts)
