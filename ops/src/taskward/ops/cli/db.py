"""``taskward db``: create, upgrade and check the schema."""

from __future__ import annotations

import contextlib

import typer

from taskward.core import Taskward
from taskward.core.db import check_connection
from taskward.core.migrate import current_revision, head_revision
from taskward.ops.cli._common import Database, open_app
from taskward.ops.urls import DEFAULT_URL, prepare_sqlite

db = typer.Typer(help="Create, upgrade and check the database schema.", no_args_is_help=True)


@db.command()
def upgrade(database: Database = DEFAULT_URL) -> None:
    """Apply the migrations (creates the schema; safe to run on every deploy)."""
    prepare_sqlite(database, create=True)
    with contextlib.closing(Taskward(database)) as app:
        check_connection(app.engine)
        before = current_revision(app.engine)
        app.migrate()
        head = head_revision()
        change = "already at" if before == head else f"upgraded from {before or 'empty'} to"
        typer.echo(f"database {app.url}: {change} schema revision {head}")


@db.command()
def check(database: Database = DEFAULT_URL) -> None:
    """Exit 0 if the database is reachable and its schema current; else say what to run."""
    with contextlib.closing(open_app(database)) as app:
        typer.echo(f"database {app.url}: schema revision {head_revision()} (current)")
