"""The loops a worker runs besides claiming: its own duties, then its plugins' loops."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from taskward.core.events import JobEvent, MaintenanceRan
from taskward.core.loops import Loop, OnRun
from taskward.core.ports import LoopHost, Offload, Plugin, Runtime
from taskward.core.worker.autoscaler import Autoscaler
from taskward.core.worker.maintenance import Maintenance
from taskward.core.worker.watch import JobWatch


def duties(
    runtime: Runtime,
    maintenance: Maintenance,
    watch: JobWatch,
    *,
    offload: Offload,
    plugins: Sequence[Plugin],
    autoscaler: Autoscaler | None,
    intervals: tuple[float, float, float],
) -> list[Loop]:
    """Heartbeat, stager, rescuer (leader), cancel and stranded checks, plugin loops;
    each run reported on the spine. ``intervals``: heartbeat, stage, cancel check."""
    m = maintenance
    heartbeat_interval, stage_interval, cancel_check_interval = intervals

    async def heartbeat() -> None:
        await offload(m.heartbeat)

    async def stage() -> list[JobEvent]:  # returned: the run's report names the jobs
        return await offload(m.stage)

    async def rescue() -> list[JobEvent]:
        return await offload(m.rescue)

    async def stranded() -> None:
        await watch.release_stranded(heartbeat_interval)

    host = LoopHost(offload=offload, interval=stage_interval)
    loops = [
        Loop("heartbeat", heartbeat_interval, heartbeat),
        Loop("stage", stage_interval, stage),
        Loop("rescue", heartbeat_interval, rescue, leader_only=True),
        Loop("cancel-check", cancel_check_interval, watch.check_cancellations),
        Loop("stranded-check", heartbeat_interval, stranded),
        *(loop for plugin in plugins for loop in plugin.loops(host)),
        *(autoscaler.loops(offload) if autoscaler else ()),
    ]
    report = _reporter(runtime, watch.worker_id)
    return [replace(loop, on_run=report) for loop in loops]


def _reporter(runtime: Runtime, worker_id: str) -> OnRun:
    """Reports each maintenance run on the spine (its span, its last-success time)."""

    def report(loop: Loop, took: float, result: object, error: Exception | None) -> None:
        moved = result if isinstance(result, list) else []
        runtime.emit(
            [
                MaintenanceRan(
                    at=runtime.clock.now(),
                    kind=loop.name,
                    worker_id=worker_id,
                    duration=took,
                    jobs=tuple(e.job for e in moved if isinstance(e, JobEvent)),
                    error=type(error).__name__ if error else None,
                )
            ]
        )

    return report
