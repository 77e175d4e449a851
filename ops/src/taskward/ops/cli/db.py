"""``taskward db``: create, upgrade and look at the schema."""

from __future__ import annotations

import contextlib

import typer

from taskward.ops.cli._options import Database

db = typer.Typer(
    help="Create, upgrade and check the database schema.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@db.command()
def upgrade(database: Database = None) -> None:
    """Apply the migrations (creates the schema; safe to run on every deploy)."""
    from taskward.core import Taskward
    from taskward.core.db import check_connection
    from taskward.core.migrate import current_revision, head_revision
    from taskward.ops.cli._common import settings
    from taskward.ops.urls import prepare_sqlite

    url = settings(database).database.url.get_secret_value()
    prepare_sqlite(url, create=True)
    with contextlib.closing(Taskward(url)) as app:
        check_connection(app.engine)
        before = current_revision(app.engine)
        app.migrate()
        head = head_revision()
        change = "already at" if before == head else f"upgraded from {before or 'empty'} to"
        typer.echo(f"database {app.url}: {change} schema revision {head}")


@db.command()
def status(database: Database = None) -> None:
    """Say whether the schema is current; exit 1 naming what to run if it is not."""
    from taskward.core.migrate import head_revision
    from taskward.ops.cli._common import open_app

    with contextlib.closing(open_app(database)) as app:  # SchemaOutOfDateError says what to run
        typer.echo(f"database {app.url}: schema revision {head_revision()} (current)")


@db.command(hidden=True)
def check(database: Database = None) -> None:
    """The same as `db status` (kept for scripts)."""
    status(database)
