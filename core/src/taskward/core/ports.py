"""The seams between the layers: what a plugin contributes and what it is given.

**Writing a plugin.** A plugin is an object the app builds once and passes *into*
the store and into every worker when it builds them; nothing is attached to
either afterwards. It contributes any of three things (:class:`Plugin` gives
each an empty default, so subclass it and override only what you need):

``transition_hooks``
    Callables ``hook(store, conn, events)`` run inside the transaction of every
    job transition the store writes (completed, discarded, staged, ...). Write
    your own rows on ``conn`` (through ``store.write_transitions(..., hooks=False)``
    for job changes); they commit or roll back with the transition. Hand events
    you cause to an :class:`Emitter`'s ``emit_on_commit``. Keep hooks cheap: they
    run on the hot path (one indexed lookup when there is nothing to do).
``claim_limiter``
    A :class:`~taskward.core.store.ClaimLimiter` the store consults inside every
    claim's transaction, or ``None`` while there is nothing to limit (the claim
    then stays one statement).
``loops(host)``
    Maintenance :class:`~taskward.core.loops.Loop`\\ s every worker runs: each with
    a name, an interval and a ``leader_only`` flag, its runs counted and reported
    (``MaintenanceRan``: a span, the last-success gauge). ``host.offload(fn, *args)``
    runs blocking (database) work off the event loop.

A plugin never receives the app: its constructor takes the narrow collaborators
it needs, e.g. ``connect`` (a transaction), a :class:`~taskward.core.clock.Clock`,
an :class:`Emitter` and an :class:`~taskward.core.task.Enqueuer`. Register one
with ``Taskward(..., plugins=[...])``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

import sqlalchemy as sa

from taskward.core.clock import Clock
from taskward.core.events import Event, JobEvent
from taskward.core.loops import Loop
from taskward.core.store import ClaimLimiter, SqlStore, TransitionHook
from taskward.core.task import Enqueuer, Task

__all__ = [
    "Connect",
    "Emitter",
    "Enqueuer",
    "LoopHost",
    "Offload",
    "Plugin",
    "Runtime",
]

T = TypeVar("T")

#: Opens a transaction on the app's database (commit on exit, rollback on error).
Connect = Callable[[], AbstractContextManager[sa.Connection]]


class Offload(Protocol):
    """Runs blocking work off the event loop, on the worker's database threads."""

    def __call__(self, fn: Callable[..., T], /, *args: Any) -> Awaitable[T]: ...


class Emitter(Protocol):
    """Publishes lifecycle events once the state they describe is durable."""

    def emit(self, events: Sequence[Event]) -> None:
        """Publish events whose transaction has committed."""
        ...

    def emit_on_commit(self, connection: sa.Connection, events: Sequence[JobEvent]) -> None:
        """Publish ``events`` when ``connection``'s transaction commits; drop them on rollback."""
        ...


@dataclass(frozen=True, slots=True)
class LoopHost:
    """What a worker offers the loops a plugin contributes."""

    #: Runs blocking (database) work off the event loop.
    offload: Offload
    #: The worker's staging interval: how often work that has come due is looked for.
    interval: float


class Plugin:
    """A feature plugged into the store and the workers (see the module docstring).

    Subclass and override what the plugin contributes; the defaults contribute nothing.
    """

    #: A short name for logs and errors.
    name: ClassVar[str] = "plugin"

    @property
    def transition_hooks(self) -> Sequence[TransitionHook]:
        """Run inside every transition's transaction, in plugin order."""
        return ()

    @property
    def claim_limiter(self) -> ClaimLimiter | None:
        """Consulted inside every claim's transaction while not ``None``."""
        return None

    def loops(self, host: LoopHost) -> Sequence[Loop]:
        """Maintenance loops each worker runs for this plugin (built once per worker)."""
        return ()


class Runtime(Emitter, Protocol):
    """What a worker runs against: the database, the clock, the tasks and the spine.

    The app provides it; the worker never needs more of the app than this.
    """

    @property
    def clock(self) -> Clock: ...

    @property
    def store(self) -> SqlStore: ...

    @property
    def url(self) -> str:
        """The database URL, password masked (for logs)."""
        ...

    @property
    def tasks(self) -> Mapping[str, Task[Any, Any]]: ...

    def connect(self, *, autocommit: bool = False) -> AbstractContextManager[sa.Connection]: ...

    def check_schema(self) -> None:
        """Raise unless the database is reachable and its schema current."""
        ...

    def add_wakeup(self, callback: Callable[[set[str]], None]) -> Callable[[], None]:
        """Call ``callback(queues)`` when jobs become available in this process."""
        ...
