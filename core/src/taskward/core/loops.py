"""Maintenance as a family of small uniform loops: interval, leader-only flag, observable runs.

A worker runs its own loops (heartbeat, stager, rescuer, ...) and those its
plugins contribute (the scheduler, bucket pruning, ...) the same way, and
reports every run on the event spine (``MaintenanceRan``: a span and the
last-success gauge). A loop counts its runs and failures and remembers its last
success, so a test or a health check can read them off the loop itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger("taskward.core.worker")

#: Called after every run with (loop, duration, the step's result, error): the run's report.
OnRun = Callable[["Loop", float, object, Exception | None], None]


@dataclass(slots=True, eq=False)
class Loop:
    """Run ``step`` every ``interval`` seconds until stopped; errors are logged, not fatal."""

    name: str
    interval: float
    step: Callable[[], Awaitable[object]]
    #: Run only while this process holds the leader lease (schedules, rescue, pruning).
    leader_only: bool = False
    #: The run's report (the worker passes its own when it starts the loop).
    on_run: OnRun | None = None
    #: Runs so far, failed ones included.
    runs: int = 0
    failures: int = 0
    #: Wall-clock time (``time.time()``) of the last run that succeeded.
    last_success: float | None = None
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
        self.runs += 1
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
