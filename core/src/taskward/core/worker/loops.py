"""Maintenance as a family of small uniform loops: interval, leader-only flag, observable runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger("taskward.core.worker")


@dataclass(slots=True, eq=False)
class Loop:
    """Run ``step`` every ``interval`` seconds until stopped; errors are logged, not fatal."""

    name: str
    interval: float
    step: Callable[[], Awaitable[object]]
    leader_only: bool = False
    #: Called after every run with (loop, duration, step's result, error): the run's report.
    on_run: Callable[[Loop, float, object, Exception | None], None] | None = None
    last_success: float | None = None
    failures: int = 0
    _last_logged: float = field(default=0.0, repr=False)

    async def run(self, stopping: asyncio.Event, is_leader: Callable[[], bool]) -> None:
        while not stopping.is_set():
            if not self.leader_only or is_leader():
                await self.run_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.interval)

    async def run_once(self) -> None:
        began = time.perf_counter()
        result: object = None
        error: Exception | None = None
        try:
            result = await self.step()
        except Exception as exc:
            error = exc
            self.failures += 1
            now = time.monotonic()
            if now - self._last_logged > 30:
                self._last_logged = now
                log.warning(
                    "maintenance loop %s failed: %s",
                    self.name,
                    str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
                    if str(exc)
                    else type(exc).__name__,
                )
        else:
            self.last_success = time.time()
        if self.on_run is not None:
            self.on_run(self, time.perf_counter() - began, result, error)
