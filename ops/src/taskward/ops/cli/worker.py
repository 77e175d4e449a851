"""``taskward worker``: run the jobs of an application until SIGTERM/SIGINT.

Workers on any number of hosts coordinate through the database alone: give each
the same ``--app`` and database URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from typing import Annotated

import typer

from taskward.core import Taskward
from taskward.core.instrumentation import instrument
from taskward.ops.cli._common import AppDatabase, AppSpec, configure_logging, serve
from taskward.ops.errors import BadInputError
from taskward.ops.eventlog import JsonLines
from taskward.ops.loader import load_app
from taskward.ops.urls import prepare_sqlite

log = logging.getLogger("taskward.ops.worker")


def worker(
    app_spec: AppSpec,
    queue: Annotated[
        list[str] | None,
        typer.Option(
            "--queue",
            "-q",
            help="NAME or NAME=CONCURRENCY; repeat for several (default: every task's queue).",
        ),
    ] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, help="Concurrency of queues given without =N.")
    ] = 10,
    database: AppDatabase = None,
    heartbeat_interval: Annotated[float, typer.Option(min=0.01, help="Seconds.")] = 5.0,
    shutdown_grace: Annotated[
        float, typer.Option(min=0, help="Seconds running jobs get to finish on SIGTERM.")
    ] = 30.0,
    poll_interval: Annotated[
        float, typer.Option(min=0.01, help="Seconds between polls (wake-ups are instant).")
    ] = 1.0,
    log_events: Annotated[
        bool, typer.Option(help="Print every lifecycle event as a JSON line on stdout.")
    ] = False,
    metrics_port: Annotated[
        int | None, typer.Option(min=0, max=65535, help="Serve Prometheus /metrics on this port.")
    ] = None,
    metrics_addr: Annotated[
        str, typer.Option(help="Address of /metrics (0.0.0.0: every interface).")
    ] = "127.0.0.1",
) -> None:
    """Run a worker: claim and run jobs until SIGTERM or SIGINT, then shut down gracefully."""
    app = load_app(app_spec, database)
    queues = parse_queues(queue or [], concurrency, app)
    with contextlib.closing(app):
        prepare_sqlite(app.engine.url, create=False)
        app.check_schema()
        configure_logging()
        if log_events:
            JsonLines(sys.stdout).attach(app)
        with contextlib.closing(instrument(app)) as signals:  # before the worker: its middleware
            if metrics_port is not None:
                served = signals.serve_metrics(metrics_port, metrics_addr)
                log.info("metrics on http://%s:%d/metrics", served.addr, served.port)
            running = app.worker(
                queues,
                heartbeat_interval=heartbeat_interval,
                shutdown_grace=shutdown_grace,
                poll_interval=poll_interval,
            )
            asyncio.run(serve(running))
            app.bus.flush()


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
