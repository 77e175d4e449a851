"""A worker's threads: a few for blocking database work, enough for its sync handlers."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class Pools:
    """Database threads (one on SQLite, where there is one writer anyway) and job threads."""

    def __init__(self, *, sqlite: bool, jobs: int) -> None:
        self.loop = asyncio.get_running_loop()
        self._db = ThreadPoolExecutor(1 if sqlite else 4, thread_name_prefix="taskward-db")
        self._jobs_size = max(1, jobs)
        self._jobs: ThreadPoolExecutor | None = None

    @property
    def jobs(self) -> ThreadPoolExecutor:
        """Threads for sync handlers, made on first use (a worker that never starts has none)."""
        if self._jobs is None:
            self._jobs = ThreadPoolExecutor(self._jobs_size, thread_name_prefix="taskward-job")
        return self._jobs

    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking database work off the event loop."""
        return await self.loop.run_in_executor(self._db, functools.partial(fn, *args))

    def close(self, *, wait: bool = True) -> None:
        """Let database work finish (``wait``); abandon queued handler calls."""
        self._db.shutdown(wait=wait)
        if self._jobs is not None:
            self._jobs.shutdown(wait=False, cancel_futures=True)
