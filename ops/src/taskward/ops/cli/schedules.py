"""``taskward schedules``: recurring jobs with their last and next runs; pause, resume, run."""

from __future__ import annotations

import contextlib
from typing import Annotated

import typer

from taskward.ops.cli._options import (
    Actor,
    AppDatabase,
    AppSpec,
    Database,
    JsonFlag,
    Output,
    OutputOption,
    Wide,
)
from taskward.ops.cli.output import choose

schedules = typer.Typer(
    help="List schedules; pause, resume or run one now.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
Name = Annotated[str, typer.Argument(metavar="NAME", help="The schedule's name.")]


@schedules.command("list")
def list_schedules(
    database: Database = None,
    output: OutputOption = Output.TABLE,
    as_json: JsonFlag = False,
    wide: Wide = False,
) -> None:
    """Every stored schedule: its task, calendar, pause flag, last and next run."""
    from taskward.ops.cli._common import open_app
    from taskward.ops.cli.output import emit
    from taskward.ops.cli.render import schedules_table

    with contextlib.closing(open_app(database)) as app:
        infos = app.schedules.list()
        now = app.clock.now()
    emit(
        choose(output, as_json),
        lambda: infos,
        lambda: [schedules_table(infos, now, wide=wide)],
        wide=wide,
    )


def _set_paused(name: str, paused: bool, actor: str | None, database: str | None) -> None:
    from taskward.ops.admin import Admin
    from taskward.ops.cli._common import actor as actor_name
    from taskward.ops.cli._common import open_app

    with contextlib.closing(open_app(database)) as app:
        admin = Admin.of(app, actor_name(actor))
        info = (admin.pause_schedule if paused else admin.resume_schedule)(name)
    state = "paused" if info.paused else f"resumed; next run {info.next_fire_at:%Y-%m-%d %H:%M} UTC"
    typer.echo(f"schedule {name} {state}")


@schedules.command()
def pause(name: Name, actor: Actor = None, database: Database = None) -> None:
    """Stop firing NAME (on every host) until it is resumed."""
    _set_paused(name, True, actor, database)


@schedules.command()
def resume(name: Name, actor: Actor = None, database: Database = None) -> None:
    """Fire NAME again from its next fire time (runs missed while paused are skipped)."""
    _set_paused(name, False, actor, database)


@schedules.command()
def run(
    name: Name,
    app_spec: AppSpec = None,
    actor: Actor = None,
    database: AppDatabase = None,
    output: OutputOption = Output.TABLE,
    as_json: JsonFlag = False,
) -> None:
    """Enqueue NAME's job now, outside its calendar; prints the job id."""
    from taskward.ops.admin import Admin
    from taskward.ops.cli._common import actor as actor_name
    from taskward.ops.cli._common import open_user_app
    from taskward.ops.cli.output import emit
    from taskward.ops.serialize import job_to_json

    with contextlib.closing(open_user_app(app_spec, database)[0]) as app:
        job = Admin.of(app, actor_name(actor)).run_schedule(name)
        app.bus.flush()
    emit(choose(output, as_json), lambda: job_to_json(job), lambda: [str(job.id)])
