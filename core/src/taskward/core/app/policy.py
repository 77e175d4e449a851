"""Task policies as ``@app.task(...)`` declares them, checked when declared."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from taskward.core.clock import SystemClock
from taskward.core.enqueue import build_job
from taskward.core.job import Job
from taskward.core.retry import Backoff, ExceptionTypes, Exponential, RetryPolicy
from taskward.core.task import JobSpec, TaskPolicy, Unique


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
) -> TaskPolicy:
    """Build a :class:`TaskPolicy`, checked the same way enqueue checks a call."""
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
    )
    # Validate the defaults once at declaration time (fails with the field's name).
    build_job(JobSpec("_check"), replace(policy, unique=None), SystemClock().now())
    return policy
