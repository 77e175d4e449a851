"""Helpers for worker tests: run a live worker, poll the database until something holds."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import sqlalchemy as sa

from taskward.core import Job, JobState, Task, Taskward, Worker, schema

FAST = {
    "poll_interval": 0.05,
    "heartbeat_interval": 0.2,
    "stage_interval": 0.05,
    "cancel_check_interval": 0.05,
    "shutdown_grace": 5.0,
}
"""Worker intervals small enough for tests."""


def fast(**overrides: Any) -> dict[str, Any]:
    return {**FAST, **overrides}


async def wait_until(
    predicate: Callable[[], bool], *, within: float = 10.0, what: str = "condition"
) -> None:
    """Poll ``predicate`` every few milliseconds; fail with ``what`` if it never holds."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def wait_for_states(
    app: Taskward,
    ids: Iterable[uuid.UUID],
    states: Iterable[JobState],
    *,
    within: float = 10.0,
) -> list[Job]:
    """Wait until every job in ``ids`` is in one of ``states``; return their snapshots."""
    ids, wanted = list(ids), set(states)
    deadline = time.monotonic() + within
    while True:
        jobs = await asyncio.to_thread(lambda: [app.get_job(i) for i in ids])
        if all(j.state in wanted for j in jobs):
            return jobs
        if time.monotonic() > deadline:
            seen = sorted({j.state.value for j in jobs})
            raise AssertionError(f"jobs not in {sorted(wanted)} (seen: {seen})")
        await asyncio.sleep(0.02)


def with_worker(
    app: Taskward,
    body: Callable[[Worker], Awaitable[None]],
    queues: Any = None,
    **options: Any,
) -> Worker:
    """Start a worker, run ``body(worker)`` against it, then shut it down (in ``asyncio.run``)."""
    worker = app.worker(queues, **fast(**options))

    async def main() -> None:
        await worker.start()
        try:
            await body(worker)
        finally:
            await worker.shutdown()

    asyncio.run(main())
    app.bus.flush()
    return worker


def gated_task(app: Taskward, name: str = "slow") -> tuple[Task[Any, Any], asyncio.Event]:
    """A task whose jobs run until the returned event is set, then return ``"done"``."""
    go = asyncio.Event()

    async def slow() -> str:
        await go.wait()
        return "done"

    return app.task(name=name)(slow), go


def count_rows(app: Taskward, table: sa.Table = schema.jobs) -> int:
    """How many rows ``table`` holds (jobs by default)."""
    with app.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)
