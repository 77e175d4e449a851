"""``taskward worker``: run the jobs of an application until SIGTERM/SIGINT.

Workers on any number of hosts coordinate through the database alone: give each
the same ``--app`` and database URL.
"""

from __future__ import annotations

import contextlib
from typing import Annotated

import typer

from taskward.ops.cli._options import AppDatabase, AppSpec

QueueSpecs = Annotated[
    list[str] | None,
    typer.Option(
        "--queue",
        "-q",
        help="NAME or NAME=CONCURRENCY; repeat for several (default: every task's queue).",
    ),
]
Concurrency = Annotated[
    int | None,
    typer.Option(min=1, help="Concurrency of queues given without =N (default: [worker], 10)."),
]
MetricsAddr = Annotated[
    str | None, typer.Option(help="Address of /metrics (0.0.0.0: every interface; 127.0.0.1).")
]
LogEvents = Annotated[
    bool, typer.Option(help="Print every lifecycle event as a JSON line on stdout.")
]


def worker(
    app_spec: AppSpec = None,
    queue: QueueSpecs = None,
    concurrency: Concurrency = None,
    database: AppDatabase = None,
    heartbeat_interval: Annotated[
        float | None, typer.Option(min=0.01, help="Seconds (default: [worker] heartbeat, 5).")
    ] = None,
    shutdown_grace: Annotated[
        float | None,
        typer.Option(min=0, help="Seconds running jobs get to finish on SIGTERM (default 30)."),
    ] = None,
    poll_interval: Annotated[
        float | None, typer.Option(min=0.01, help="Seconds between polls (default 1).")
    ] = None,
    log_events: LogEvents = False,
    metrics_port: Annotated[
        int | None, typer.Option(min=0, max=65535, help="Serve Prometheus /metrics on this port.")
    ] = None,
    metrics_addr: MetricsAddr = None,
) -> None:
    """Run a worker: claim and run jobs until SIGTERM or SIGINT, then shut down gracefully.

    Flags left out come from [worker] and [queues] of taskward.toml."""
    from taskward.ops.cli._common import open_user_app
    from taskward.ops.cli._run import Metrics, Printing, queue_plan, run_worker

    app, config = open_user_app(app_spec, database)
    section = config.worker
    with contextlib.closing(app):
        run_worker(
            app,
            queue_plan(queue or section.queues, concurrency, config, app),
            printing=Printing(log_events=log_events),
            metrics=Metrics(
                port=metrics_port if metrics_port is not None else section.metrics_port,
                addr=metrics_addr or section.metrics_addr,
            ),
            heartbeat_interval=heartbeat_interval or section.heartbeat,
            shutdown_grace=section.shutdown_grace if shutdown_grace is None else shutdown_grace,
            poll_interval=poll_interval or section.poll_interval,
        )
