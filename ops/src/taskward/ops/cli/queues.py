"""``taskward queues``: what each queue holds, how fast it drains; pause and resume."""

from __future__ import annotations

import contextlib
from typing import Annotated

import typer

from taskward.ops.cli._options import Actor, Database, JsonFlag, Output, OutputOption, Wide
from taskward.ops.cli.output import choose

queues = typer.Typer(
    help="List queues; pause and resume them.", no_args_is_help=True, rich_markup_mode=None
)
QueueName = Annotated[str, typer.Argument(metavar="QUEUE", help="The queue's name.")]
WINDOW = 300.0


@queues.command("list")
def list_queues(
    database: Database = None,
    output: OutputOption = Output.TABLE,
    as_json: JsonFlag = False,
    wide: Wide = False,
) -> None:
    """Every queue: jobs by state, the oldest waiting job's age, jobs done per minute."""
    from datetime import timedelta

    from taskward.core.store import overview
    from taskward.ops.cli._common import open_app
    from taskward.ops.cli.output import emit
    from taskward.ops.cli.render import queues_table

    with contextlib.closing(open_app(database)) as app, app.connect() as conn:
        views = overview.queues(conn, app.clock.now(), timedelta(seconds=WINDOW))
    emit(
        choose(output, as_json),
        lambda: views,
        lambda: [queues_table(views, WINDOW, wide=wide)],
        wide=wide,
    )


def _set_paused(queue: str, paused: bool, actor: str | None, database: str | None) -> None:
    from taskward.ops.admin import Admin
    from taskward.ops.cli._common import actor as actor_name
    from taskward.ops.cli._common import open_app

    with contextlib.closing(open_app(database)) as app:
        admin = Admin.of(app, actor_name(actor))
        (admin.pause_queue if paused else admin.resume_queue)(queue)
        app.bus.flush()
    typer.echo(f"queue {queue} {'paused' if paused else 'resumed'}")


@queues.command()
def pause(queue: QueueName, actor: Actor = None, database: Database = None) -> None:
    """Workers stop claiming QUEUE's jobs (running ones finish) until it is resumed."""
    _set_paused(queue, True, actor, database)


@queues.command()
def resume(queue: QueueName, actor: Actor = None, database: Database = None) -> None:
    """Workers claim QUEUE's jobs again."""
    _set_paused(queue, False, actor, database)
