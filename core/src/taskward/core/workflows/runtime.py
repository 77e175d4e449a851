"""Workflow helpers for use inside a running job: fan out, and read dependencies' results."""

from __future__ import annotations

import asyncio
from typing import Any

from taskward.core.attempt import current_attempt
from taskward.core.job import Job
from taskward.core.task import BoundTask, JobSpec, Task
from taskward.core.workflows.service import Workflows

_SPAWNED = "taskward.workflows.spawned"


def spawn(*items: JobSpec | Task[..., Any] | BoundTask) -> list[Job]:
    """Enqueue children of the running job (``task.spec(...)`` each, in one transaction).

    Jobs that wait for the running job also wait for every child it spawns, so a
    later step sees them all finished (``spawned_results()`` reads their results).
    """
    ctx = current_attempt()
    first = ctx.extras.get(_SPAWNED, 0)
    specs = [item if isinstance(item, JobSpec) else item.spec() for item in items]
    ctx.extras[_SPAWNED] = first + len(specs)
    return ctx.plugin(Workflows).spawn(ctx.job, specs, first)


async def spawn_async(*items: JobSpec | Task[..., Any] | BoundTask) -> list[Job]:
    """:func:`spawn` for async handlers, off the event loop."""
    return await asyncio.to_thread(spawn, *items)


def dependency_results() -> list[Any]:
    """Results of the jobs the running job declared it depends on, in that order."""
    ctx = current_attempt()
    return ctx.plugin(Workflows).results_of(ctx.job)


def spawned_results() -> list[Any]:
    """Results of the children spawned by the jobs the running job depends on."""
    ctx = current_attempt()
    return ctx.plugin(Workflows).results_of(ctx.job, spawned=True)
