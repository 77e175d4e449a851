"""Turning enqueue calls into validated job rows; bad input is refused before any write."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from taskward.core._ids import uuid7
from taskward.core._json import dumps
from taskward.core.errors import InvalidJobError
from taskward.core.job import Job
from taskward.core.states import JobState
from taskward.core.task import MAX_PRIORITY, MIN_PRIORITY, JobSpec, TaskPolicy

MAX_QUEUE_NAME = 128


def build_job(spec: JobSpec, policy: TaskPolicy, now: datetime) -> Job:
    """Validate one call and make its job snapshot (not yet written)."""
    opts = spec.options
    args, kwargs = list(spec.args), dict(spec.kwargs)
    _check_json("args", args)
    _check_json("kwargs", kwargs)
    queue = opts.queue if opts.queue is not None else policy.queue
    if not queue or len(queue) > MAX_QUEUE_NAME:
        raise InvalidJobError("queue", f"must be 1 to {MAX_QUEUE_NAME} characters, got {queue!r}")
    priority = opts.priority if opts.priority is not None else policy.priority
    if not isinstance(priority, int) or not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise InvalidJobError(
            "priority",
            f"must be an integer from {MIN_PRIORITY} (highest) to {MAX_PRIORITY}, got {priority!r}",
        )
    max_attempts = opts.max_attempts if opts.max_attempts is not None else policy.max_attempts
    if not isinstance(max_attempts, int) or max_attempts < 1:
        raise InvalidJobError("max_attempts", f"must be a positive integer, got {max_attempts!r}")
    timeout = opts.timeout if opts.timeout is not None else policy.timeout
    if timeout is not None and not (
        isinstance(timeout, int | float) and timeout > 0 and math.isfinite(timeout)
    ):
        raise InvalidJobError("timeout", f"must be a positive number of seconds, got {timeout!r}")
    scheduled_at = _scheduled_at(opts.at, opts.in_, now)
    meta = dict(opts.meta or {})
    _check_json("meta", meta)
    tags = [*policy.tags, *opts.tags]
    return Job(
        id=uuid7(),
        queue=queue,
        task=spec.task,
        state=JobState.SCHEDULED if scheduled_at > now else JobState.AVAILABLE,
        args=args,
        kwargs=kwargs,
        priority=priority,
        max_attempts=max_attempts,
        scheduled_at=scheduled_at,
        inserted_at=now,
        tags=tags,
        meta=meta,
        unique_key=_unique_key(spec, policy, queue, now),
        timeout=float(timeout) if timeout is not None else None,
    )


def _scheduled_at(at: datetime | None, in_: float | None, now: datetime) -> datetime:
    if at is not None and in_ is not None:
        raise InvalidJobError("at", "give either at= or in_=, not both")
    if in_ is not None:
        if not isinstance(in_, int | float) or math.isnan(in_) or in_ < 0:
            raise InvalidJobError("in_", f"delay must be a non-negative number, got {in_!r}")
        return now + timedelta(seconds=in_)
    if at is not None:
        if at.tzinfo is None:
            raise InvalidJobError("at", f"must be timezone-aware, got naive {at.isoformat()}")
        return max(at, now)
    return now


def _check_json(field: str, value: Any) -> None:
    if not value:  # an empty list or dict: nothing to check
        return
    try:
        dumps(value)
    except (TypeError, ValueError) as exc:
        raise InvalidJobError(field, f"not JSON-serialisable: {exc}") from None


def _unique_key(spec: JobSpec, policy: TaskPolicy, queue: str, now: datetime) -> str | None:
    unique = policy.unique
    if spec.options.held_key is not None:
        if spec.options.unique_key is not None:
            raise InvalidJobError("held_key", "give either unique_key= or held_key=, not both")
        return held_key(spec.options.held_key)
    if spec.options.unique_key is not None:
        key = spec.options.unique_key
    elif unique is None:
        return None
    elif unique.key is not None:
        key = unique.key(*spec.args, **spec.kwargs)
    else:
        key = _digest(list(spec.args), spec.kwargs)
    if unique is not None and unique.window:
        bucket = math.floor(now.timestamp() / unique.window)
        return held_key(f"{spec.task}|{queue}|{key}@{bucket}")
    return f"{UNTIL_FINISHED}{spec.task}|{queue}|{key}"[:512]


def _digest(args: list[Any], kwargs: Mapping[str, Any]) -> str:
    encoded = json.dumps([args, kwargs], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()[:32]


UNTIL_FINISHED = "u:"
HELD = "w:"


def held_key(key: str) -> str:
    """A unique key kept after the job finishes (windows, schedule firings)."""
    return f"{HELD}{key}"[:512]


def released_key(key: str | None) -> str | None:
    """The unique key a finished job keeps: unique-while-unfinished keys are freed."""
    return None if key is not None and key.startswith(UNTIL_FINISHED) else key
