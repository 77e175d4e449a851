"""Running an app's worker in this process: what ``worker``, ``up`` and ``demo`` share.

The worker brings the scheduler (leader only) and maintenance with it; this adds
the event printer, the instrumentation and ``/metrics`` (with the collector gauges
read from the database), and an optional helper task beside the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from taskward.core import Taskward, Worker, manage_gc
from taskward.core.instrumentation import instrument
from taskward.ops.cli._common import configure_logging, serve
from taskward.ops.errors import BadInputError

if TYPE_CHECKING:
    from taskward.ops.config import TaskwardConfig

log = logging.getLogger("taskward.ops.run")
Helper = Callable[[Worker], Coroutine[Any, Any, None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Printing:
    """What goes to stdout: JSON event lines, short outcome lines, or nothing."""

    log_events: bool = False
    outcome_lines: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Metrics:
    """Where ``/metrics`` is served (``port`` None: not at all); ``required``: a busy port
    is an error rather than a warning."""

    port: int | None = None
    addr: str = "127.0.0.1"
    required: bool = True


def run_worker(
    app: Taskward,
    queues: dict[str, int],
    *,
    printing: Printing,
    metrics: Metrics,
    helper: Helper | None = None,
    **worker_options: Any,
) -> None:
    """Run a worker for ``queues`` until SIGTERM/SIGINT (or ``helper`` stops it)."""
    manage_gc()  # this process is Taskward's own: the worker freezes its start-up heap
    configure_logging()
    if printing.log_events:
        from taskward.ops.eventlog import JsonLines

        JsonLines(sys.stdout).attach(app)
    elif printing.outcome_lines:
        from taskward.ops.cli.output import console
        from taskward.ops.outcomelines import OutcomeLines

        OutcomeLines(console()).attach(app)
    with contextlib.closing(instrument(app)) as signals:  # before the worker: its middleware
        if metrics.port is not None:
            try:
                served = signals.serve_metrics(metrics.port, metrics.addr)
            except OSError as exc:
                if metrics.required:
                    raise BadInputError(
                        "--metrics-port", f"{metrics.port}: {exc.strerror}"
                    ) from None
                log.warning("/metrics not served: port %d: %s", metrics.port, exc.strerror)
            else:
                log.info("metrics on http://%s:%d/metrics", served.addr, served.port)
        worker = app.worker(queues, **worker_options)
        asyncio.run(_serve(worker, helper))
        # asyncio.run restores Python's SIGINT handler on exit: a late forwarded Ctrl-C
        # (``uv run`` sends one more) must not become a KeyboardInterrupt now.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        app.bus.flush()


async def _serve(worker: Worker, helper: Helper | None) -> None:
    task = asyncio.create_task(helper(worker)) if helper is not None else None
    try:
        await serve(worker)
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def queue_plan(
    specs: list[str], concurrency: int | None, config: TaskwardConfig, app: Taskward
) -> dict[str, int]:
    """The queues to serve and their concurrency: the flags (or ``[worker] queues``), else
    every queue of the app's tasks and of ``[queues]``; a queue without ``=N`` runs at its
    ``[queues.NAME] concurrency``, else ``concurrency`` (else ``[worker] concurrency``)."""
    default = concurrency or config.worker.concurrency
    names = specs or sorted({t.policy.queue for t in app.tasks.values()} | set(config.queues))
    plan = parse_queues(names, default, app)
    for name in plan:
        section = config.queues.get(name)
        explicit = any(spec.startswith(f"{name}=") for spec in names)
        if section is not None and section.concurrency and not explicit and concurrency is None:
            plan[name] = section.concurrency
    return plan


def parse_queues(specs: list[str], concurrency: int, app: Taskward) -> dict[str, int]:
    """``["default", "mail=2"]`` → ``{"default": concurrency, "mail": 2}``."""
    if not specs:
        names = sorted({t.policy.queue for t in app.tasks.values()} or {"default"})
        return dict.fromkeys(names, concurrency)
    queues: dict[str, int] = {}
    for spec in specs:
        name, sep, limit = spec.partition("=")
        if not name:
            raise BadInputError("--queue", f"{spec!r}: expected NAME or NAME=CONCURRENCY")
        if not sep:
            queues[name] = concurrency
            continue
        if not limit.isdigit() or int(limit) < 1:
            raise BadInputError("--queue", f"{spec!r}: concurrency must be a positive integer")
        queues[name] = int(limit)
    return queues
