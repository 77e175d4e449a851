"""The running attempt, reachable from inside a handler through a context variable."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from taskward.core.errors import TaskwardError
from taskward.core.job import Job
from taskward.core.storable import check_storable

if TYPE_CHECKING:
    from taskward.core.task import Task

P = TypeVar("P")
_current: ContextVar[AttemptContext | None] = ContextVar("taskward_attempt", default=None)
_signal_lock = threading.Lock()


class CancelSignal:
    """``threading.Event``'s ``set``/``is_set``/``wait``, its Event made on the first ``wait``.

    Every attempt has one, few ever wait on it, and a ``threading.Event`` (a lock
    and a condition) cost ~1.5 µs to make: a tenth of a no-op job's worker CPU.
    """

    __slots__ = ("_event", "_flag")

    def __init__(self) -> None:
        self._flag = False
        self._event: threading.Event | None = None

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        with _signal_lock:
            self._flag = True
            event = self._event
        if event is not None:
            event.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until set (or ``timeout`` seconds); True if it was set."""
        with _signal_lock:
            if self._flag:
                return True
            if self._event is None:
                self._event = threading.Event()
            event = self._event
        return event.wait(timeout)


@dataclass(slots=True, eq=False)
class AttemptContext:
    """One execution attempt of one job, as handlers and middleware see it."""

    job: Job
    task: Task[Any, Any]
    worker_id: str
    report_progress: Callable[[Job, dict[str, Any]], None] = lambda _job, _progress: None
    cancel_requested: CancelSignal = field(default_factory=lambda: CancelSignal())
    #: Set when the attempt ended while a sync handler's thread still runs (timeout,
    #: cancellation); the worker keeps the slot until that thread returns.
    lingering: Any = None
    #: Free-form per-attempt state for middleware (span, log buffer, ...).
    extras: dict[str, Any] = field(default_factory=dict)
    #: The plugins of the worker running the attempt (see :meth:`plugin`).
    plugins: Sequence[object] = ()

    @property
    def cancelled(self) -> bool:
        """True once the job was cancelled or timed out: sync handlers may poll this."""
        return self.cancel_requested.is_set()

    def plugin(self, kind: type[P]) -> P:
        """The worker's plugin of type ``kind`` (how ``workflows.spawn`` finds its service)."""
        for plugin in self.plugins:
            if isinstance(plugin, kind):
                return plugin
        raise TaskwardError(f"no {kind.__name__} plugin runs this attempt")

    def set_progress(self, **progress: Any) -> None:
        """Record progress (any JSON fields); persisted and emitted without blocking.

        The attempt's snapshot carries it too, so settling the job keeps the last value.
        """
        check_storable("progress", progress)
        self.job = self.job.evolve(progress=progress)
        self.report_progress(self.job, progress)


def current_attempt() -> AttemptContext:
    """The attempt running in this context; raises outside a job."""
    ctx = _current.get()
    if ctx is None:
        raise TaskwardError("current_attempt() called outside a running job")
    return ctx


def set_current(ctx: AttemptContext | None) -> Any:
    return _current.set(ctx)


def reset_current(token: Any) -> None:
    _current.reset(token)
