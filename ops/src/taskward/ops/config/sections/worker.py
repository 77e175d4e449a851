"""``[app]`` and ``[worker]``: which application to load and how a worker runs it."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from taskward.ops.config._types import Duration, PositiveInt
from taskward.ops.config.sections._base import Section


class AppSection(Section):
    module: Annotated[str, Field(pattern=r"^[\w.]+:[\w.]+$")] | None = None
    """The application object as ``module:attribute`` (e.g. ``"tasks:app"``), imported
    from the working directory; then no command needs ``--app``."""


class WorkerSection(Section):
    queues: list[str] = []
    """Queues a worker runs (empty: every queue of the app's tasks and of ``[queues]``).
    Each runs at its ``[queues.NAME] concurrency``, else ``concurrency`` below."""
    concurrency: PositiveInt = 10
    """Jobs run at once per queue when its ``[queues.NAME]`` table does not say."""
    heartbeat: Duration = 5.0
    """Seconds between heartbeats; a worker silent for 6 of them is presumed dead."""
    shutdown_grace: Duration = 30.0
    """How long running jobs get to finish on SIGTERM before they are handed back."""
    poll_interval: Duration = 1.0
    """Longest wait between polls (wake-ups are instant)."""
    metrics_port: Annotated[int, Field(ge=0, le=65535)] | None = None
    """Serve Prometheus ``/metrics`` on this port (0: any free port; unset: off)."""
    metrics_addr: str = "127.0.0.1"
    """Address ``/metrics`` listens on (``0.0.0.0``: every interface)."""
