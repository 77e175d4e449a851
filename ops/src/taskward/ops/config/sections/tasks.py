"""``[tasks."dotted.name"]``: overrides of a task's policies, without touching code."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from taskward.ops.config._types import Duration, PositiveInt, Priority
from taskward.ops.config.sections._base import Section
from taskward.ops.config.sections.queues import LimitSection


class ExponentialBackoff(Section):
    kind: Literal["exponential"]
    base: Duration = 1.0
    """Delay after the first failed attempt."""
    factor: Annotated[float, Field(ge=1)] = 2.0
    """Growth per attempt."""
    cap: Duration = 3600.0
    """Longest delay."""
    jitter: Annotated[float, Field(ge=0, le=1)] = 0.1
    """Random spread, as a fraction of the delay."""


class LinearBackoff(Section):
    kind: Literal["linear"]
    step: Duration = 10.0
    """Added per attempt."""
    start: Duration = 0.0
    """Delay after the first failed attempt."""
    cap: Duration = 3600.0
    """Longest delay."""


class FibonacciBackoff(Section):
    kind: Literal["fibonacci"]
    base: Duration = 1.0
    """Multiplied by 1, 1, 2, 3, 5, …"""
    cap: Duration = 3600.0
    """Longest delay."""


class ConstantBackoff(Section):
    kind: Literal["constant"]
    delay: Duration = 10.0
    """The same delay after every failed attempt."""


Backoff = Annotated[
    ExponentialBackoff | LinearBackoff | FibonacciBackoff | ConstantBackoff,
    Field(discriminator="kind"),
]


class UniqueSection(Section):
    window: Duration | None = None
    """Hold the key for this aligned window, finished or not (unset: while unfinished)."""


class TaskSection(Section):
    priority: Priority | None = None
    """0 (highest) to 9."""
    max_attempts: PositiveInt | None = None
    """Attempts before the job is discarded."""
    backoff: Backoff | None = None
    """``{ kind = "exponential", base = "1s", cap = "1h" }``; kinds: exponential, linear,
    fibonacci, constant."""
    timeout: Annotated[Duration, Field(gt=0)] | None = None
    """An attempt running longer is stopped and counts as failed."""
    unique: bool | UniqueSection | None = None
    """``true``: one unfinished job per arguments; ``{ window = "1h" }``: one per window."""
    limit: LimitSection | None = None
    """Rate limit and/or concurrency cap over this task's jobs."""
