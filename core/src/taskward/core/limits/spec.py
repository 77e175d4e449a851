"""What a limit says: how many jobs of which scope may start per period, or run at once."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from taskward.core.errors import InvalidLimitError
from taskward.core.task import MAX_PRIORITY, MIN_PRIORITY

MAX_KEY = 200


@dataclass(frozen=True, slots=True)
class Rate:
    """``limit`` job starts per ``per`` seconds, in bursts of up to ``burst`` at once.

    A token bucket: it holds up to ``burst`` tokens (default ``limit``), refills
    at ``limit / per`` tokens a second, and each start takes one. Over any
    window of ``per`` seconds at most ``limit + burst`` jobs start.
    """

    limit: int
    per: float = 1.0
    burst: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.limit, int) or self.limit < 1:
            raise InvalidLimitError(f"rate limit must be a positive integer, got {self.limit!r}")
        if not self.per > 0:
            raise InvalidLimitError(f"rate period must be positive seconds, got {self.per!r}")
        if self.burst is not None and (not isinstance(self.burst, int) or self.burst < 1):
            raise InvalidLimitError(f"burst must be a positive integer, got {self.burst!r}")

    @property
    def capacity(self) -> float:
        return float(self.burst if self.burst is not None else self.limit)

    @property
    def per_second(self) -> float:
        return self.limit / self.per


@dataclass(frozen=True, slots=True, kw_only=True)
class Limit:
    """A rate limit and/or a concurrency cap over the jobs of a scope.

    The scope is every job (neither ``queue`` nor ``task``), a queue's, a task's,
    or a task's in one queue. With ``by`` the limit holds per key of the job's
    arguments: a keyword argument's name, a positional index, or a function of
    ``(*args, **kwargs)`` (``by="customer_id"``: so many per customer).
    """

    queue: str | None = None
    task: str | None = None
    #: Token bucket on job starts.
    rate: Rate | None = None
    #: At most this many jobs of the scope (per key) executing at once, on all workers.
    concurrency: int | None = None
    by: str | int | Callable[..., Any] | None = None
    #: Jobs at this priority or higher (0 is highest) are not held by the rate limit.
    bypass_priority: int | None = None

    def __post_init__(self) -> None:
        if self.rate is None and self.concurrency is None:
            raise InvalidLimitError(f"{self.name}: give rate=, concurrency= or both")
        if self.concurrency is not None and (
            not isinstance(self.concurrency, int) or self.concurrency < 1
        ):
            raise InvalidLimitError(
                f"{self.name}: concurrency must be a positive integer, got {self.concurrency!r}"
            )
        if self.bypass_priority is not None:
            if self.rate is None:
                raise InvalidLimitError(f"{self.name}: bypass_priority needs a rate")
            if not MIN_PRIORITY <= self.bypass_priority <= MAX_PRIORITY:
                raise InvalidLimitError(
                    f"{self.name}: bypass_priority must be {MIN_PRIORITY} to {MAX_PRIORITY}"
                )

    @property
    def name(self) -> str:
        """Stable identity of the scope, used for its rows: ``global``, ``queue:q``, ``task:t``."""
        parts = [
            f"queue:{self.queue}" if self.queue else "",
            f"task:{self.task}" if self.task else "",
        ]
        return "/".join(p for p in parts if p) or "global"

    def covers(self, queue: str, task: str) -> bool:
        return (self.queue is None or self.queue == queue) and (
            self.task is None or self.task == task
        )

    def key(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
        """The key a job is limited under ("" when the limit is not per key)."""
        if self.by is None:
            return ""
        if callable(self.by):
            value = self.by(*args, **kwargs)
        elif isinstance(self.by, int):
            value = args[self.by] if -len(args) <= self.by < len(args) else None
        else:
            value = kwargs.get(self.by)
        return f"k:{value}"[:MAX_KEY]
