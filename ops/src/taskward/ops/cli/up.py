"""``taskward up``: everything in one process on the embedded defaults.

The schema is upgraded, then a worker serves every queue of the app with the
scheduler and maintenance (leader-elected, so several ``up`` processes share the
work safely), and ``/metrics`` serves the event metrics and the database gauges.
One short line per job outcome goes to stdout (``--log-events``: JSON lines).
``--demo`` runs the demo tasks instead of an app, adding a few jobs every
``--every`` seconds: what ``make run`` shows.
"""

from __future__ import annotations

import contextlib
from typing import Annotated

import typer

from taskward.ops.cli._options import AppDatabase
from taskward.ops.cli.worker import Concurrency, LogEvents, MetricsAddr, QueueSpecs

METRICS_PORT = 9464


def up(
    app_spec: Annotated[
        str | None,
        typer.Option(
            "--app",
            "-a",
            envvar="TASKWARD_APP",
            help="The application object, as module:attribute (not needed with --demo).",
        ),
    ] = None,
    demo: Annotated[bool, typer.Option(help="Run the demo tasks instead of an app.")] = False,
    once: Annotated[
        bool, typer.Option(help="With --demo: one batch, run to the end, then exit.")
    ] = False,
    every: Annotated[
        float, typer.Option(min=0.1, help="With --demo: seconds between new jobs.")
    ] = 2.0,
    queue: QueueSpecs = None,
    concurrency: Concurrency = None,
    database: AppDatabase = None,
    log_events: LogEvents = False,
    metrics: Annotated[bool, typer.Option(help="Serve Prometheus /metrics.")] = True,
    metrics_port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port of /metrics (0: any free port).")
    ] = METRICS_PORT,
    metrics_addr: MetricsAddr = None,
) -> None:
    """Run it all in one process: worker, scheduler, maintenance and /metrics."""
    from taskward.ops.cli._common import open_user_app, settings
    from taskward.ops.cli._run import Metrics, Printing, queue_plan, run_worker
    from taskward.ops.urls import prepare_sqlite

    helper = None
    if demo:
        from taskward.ops.cli.demo import demo_app

        config = settings(database)
        url = config.database.url.get_secret_value()
        prepare_sqlite(url, create=True)
        app, helper = demo_app(url, once=once, every=every)
        app.migrate()
    else:
        app, config = open_user_app(app_spec, database, migrate=True)
    with contextlib.closing(app):
        run_worker(
            app,
            queue_plan(queue or config.worker.queues, 4 if demo else concurrency, config, app),
            printing=Printing(log_events=log_events, outcome_lines=not log_events),
            metrics=Metrics(
                port=metrics_port if metrics else None,
                addr=metrics_addr or config.worker.metrics_addr,
                required=metrics_port != METRICS_PORT,
            ),
            helper=helper,
            **(_DEMO_TIMINGS if demo else {}),
        )


#: The demo shows retries and timeouts within seconds.
_DEMO_TIMINGS = {
    "poll_interval": 0.2,
    "stage_interval": 0.2,
    "heartbeat_interval": 1.0,
    "shutdown_grace": 5,
}
