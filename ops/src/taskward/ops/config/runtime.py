"""A worker from ``[worker]`` and ``[queues]``, and the pause flags the file sets.

Pause flags are tri-state: ``paused = true`` pauses, ``false`` resumes, unset
leaves alone what an operator set with ``taskward queues pause``, so restarting
a worker never undoes an operator's pause by accident.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taskward.core import Taskward
from taskward.ops.config.model import TaskwardConfig

if TYPE_CHECKING:
    from taskward.core import Worker


def worker_queues(app: Taskward, config: TaskwardConfig) -> dict[str, int]:
    """Queue -> concurrency: ``[worker] queues`` (else every queue the app's tasks and
    ``[queues]`` name, else ``default``), each at its ``[queues.NAME] concurrency``."""
    names = config.worker.queues or sorted(
        {t.policy.queue for t in app.tasks.values()} | set(config.queues)
    )
    return {name: config.queue_concurrency(name) for name in names or ["default"]}


def build_worker(app: Taskward, config: TaskwardConfig, **options: Any) -> Worker:
    """A worker as ``[worker]`` describes it; ``options`` override (e.g. ``listen=False``)."""
    settings = {
        "heartbeat_interval": config.worker.heartbeat,
        "shutdown_grace": config.worker.shutdown_grace,
        "poll_interval": config.worker.poll_interval,
        **options,
    }
    return app.worker(worker_queues(app, config), **settings)


def apply_pauses(
    app: Taskward, config: TaskwardConfig, previous: TaskwardConfig | None = None
) -> list[str]:
    """Pause or resume the queues and schedules whose ``paused`` is set (and, on a reload,
    changed since ``previous``); what was done, as ``"queues.emails paused"``."""
    done = []
    for name, queue in config.queues.items():
        before = previous.queues.get(name) if previous else None
        if queue.paused is not None and (before is None or before.paused != queue.paused):
            (app.pause_queue if queue.paused else app.resume_queue)(name)
            done.append(f"queues.{name} {'paused' if queue.paused else 'resumed'}")
    for name, schedule in config.schedules.items():
        old = previous.schedules.get(name) if previous else None
        if name not in app.schedules.defined:
            continue  # an app without tasks loaded has no schedules to pause
        if schedule.paused is not None and (old is None or old.paused != schedule.paused):
            (app.schedules.pause if schedule.paused else app.schedules.resume)(name)
            done.append(f"schedules.{name} {'paused' if schedule.paused else 'resumed'}")
    return done
