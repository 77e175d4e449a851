"""``taskward workers``: who is running jobs, where, and whether they are alive."""

from __future__ import annotations

import contextlib

import typer

from taskward.ops.cli._options import Database, JsonFlag, Output, OutputOption, Wide
from taskward.ops.cli.output import choose

workers = typer.Typer(help="List workers.", no_args_is_help=True, rich_markup_mode=None)


@workers.command("list")
def list_workers(
    database: Database = None,
    output: OutputOption = Output.TABLE,
    as_json: JsonFlag = False,
    wide: Wide = False,
) -> None:
    """Every registered worker: host, pid, queues, heartbeat age, jobs running now."""
    from taskward.core.store import overview
    from taskward.ops.cli._common import open_app
    from taskward.ops.cli.output import emit
    from taskward.ops.cli.render import workers_table

    with contextlib.closing(open_app(database)) as app, app.connect() as conn:
        views = overview.workers(conn)
        now = app.clock.now()
    emit(
        choose(output, as_json),
        lambda: views,
        lambda: [workers_table(views, now, wide=wide)],
        wide=wide,
    )
