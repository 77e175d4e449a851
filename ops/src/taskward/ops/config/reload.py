"""Reloading a running worker's configuration (SIGHUP, later the API's reload).

A bad file changes nothing: the worker keeps its running configuration and
logs why on one line. A good file applies what can change live (queue
concurrency, pause flags, limits, schedules), logs each change,
and names the keys that only a restart applies.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from taskward.core import Taskward
from taskward.ops.config.apply import Policies, build_policies
from taskward.ops.config.load import load_settings
from taskward.ops.config.model import TaskwardConfig
from taskward.ops.config.problems import ConfigError
from taskward.ops.config.runtime import apply_pauses

if TYPE_CHECKING:
    from taskward.core import Worker

log = logging.getLogger("taskward.ops.config")

#: Sections a running process cannot change; a reload names them as needing a restart.
RESTART_SECTIONS = ("database", "app", "instrumentation", "tasks")
RESTART_WORKER_KEYS = ("queues", "heartbeat", "shutdown_grace", "poll_interval", "metrics_port")


class Reloader:
    """Re-reads the configuration for one worker and applies what can change live."""

    def __init__(
        self,
        app: Taskward,
        worker: Worker,
        config: TaskwardConfig,
        *,
        config_path: str | os.PathLike[str] | None = None,
        overrides: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """``config_path`` and ``overrides`` are what the process started with (a reload
        finds the file the same way); ``config`` is what is running now."""
        self._app = app
        self._worker = worker
        self._config = config
        self._path = config_path if config_path is not None else config.file
        self._overrides = dict(overrides or {})
        self._environ = environ
        self._policies = build_policies(config, list(app.tasks))
        self._lock = asyncio.Lock()
        self._pending: set[asyncio.Task[bool]] = set()

    @property
    def config(self) -> TaskwardConfig:
        """The configuration in force."""
        return self._config

    def install(self) -> None:
        """Reload on SIGHUP (call from the worker's running event loop)."""
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._on_signal)

    def _on_signal(self) -> None:
        task = asyncio.create_task(self.reload(), name="taskward-config-reload")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def reload(self) -> bool:
        """Re-read and apply; False (and nothing changed) when the new file is not valid."""
        async with self._lock:
            try:
                config, policies = await asyncio.to_thread(self._read)
            except ConfigError as exc:
                log.error(
                    "config reload failed, keeping the running config: %s",
                    " | ".join(exc.lines()),
                )
                return False
            old = self._config
            changes = await asyncio.to_thread(self._apply_stored, config, policies)
            changes += self._resize(config)
            self._config, self._policies = config, policies
            restart = needs_restart(old, config)
            log.info(
                "config reloaded from %s: %s%s",
                config.file or "the environment",
                "; ".join(changes) or "nothing to change live",
                f" (restart to apply: {', '.join(restart)})" if restart else "",
            )
            return True

    def _read(self) -> tuple[TaskwardConfig, Policies]:
        config = load_settings(self._path, self._overrides, environ=self._environ)
        policies = build_policies(config, list(self._app.tasks))
        if policies.problems:
            raise ConfigError(policies.problems)
        return config, policies

    def _apply_stored(self, config: TaskwardConfig, policies: Policies) -> list[str]:
        """Limits, schedules and pause flags (database work: runs off the event loop)."""
        changes = []
        old_limits = {lim.name: lim for lim in self._policies.limits}
        new_limits = {lim.name: lim for lim in policies.limits}
        for name in old_limits.keys() - new_limits.keys():
            self._app.limits.remove(name)
            changes.append(f"limit {name} removed")
        for name, limit in new_limits.items():
            if old_limits.get(name) != limit:
                self._app.limits.remove(name)
                self._app.limits.add(limit)
                changes.append(f"limit {name} {'changed' if name in old_limits else 'added'}")
        old_schedules = {s[0]: s for s in self._policies.schedules}
        new_schedules = {s[0]: s for s in policies.schedules}
        for name in old_schedules.keys() - new_schedules.keys():
            self._app.schedules.remove(name)
            changes.append(f"schedules.{name} removed")
        for name, (_, cron, spec, options) in new_schedules.items():
            if old_schedules.get(name) != new_schedules[name]:
                self._app.schedules.remove(name)
                self._app.schedules.add(name, cron, spec, **options)
                changes.append(
                    f"schedules.{name} {'changed' if name in old_schedules else 'added'}"
                )
        return changes + apply_pauses(self._app, config, self._config)

    def _resize(self, config: TaskwardConfig) -> list[str]:
        """Concurrency of the queues this worker runs (on the event loop)."""
        changes = []
        for name, runner in self._worker.runners.items():
            wanted = config.queue_concurrency(name)
            if wanted != runner.limit:
                changes.append(f"queues.{name}.concurrency {runner.limit} -> {wanted}")
                runner.resize(wanted)
        return changes


def needs_restart(old: TaskwardConfig, new: TaskwardConfig) -> list[str]:
    """Changed keys that a running process cannot apply."""
    keys = [s for s in RESTART_SECTIONS if getattr(old, s) != getattr(new, s)]
    return keys + [
        f"worker.{k}"
        for k in RESTART_WORKER_KEYS
        if getattr(old.worker, k) != getattr(new.worker, k)
    ]
