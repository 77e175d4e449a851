"""What every command shares: the database option, opening the app, printing."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import Annotated, Any

import sqlalchemy as sa
import typer
from rich.console import Console

from taskward.core import InvalidJobError, Taskward, TaskwardError, Worker
from taskward.ops.errors import BadInputError, OpsError
from taskward.ops.serialize import dumps
from taskward.ops.urls import ENV_VAR, prepare_sqlite

Database = Annotated[
    str,
    typer.Option(
        "--database",
        "-d",
        envvar=ENV_VAR,
        help="Database URL (sqlite:///path or postgresql://user:password@host/db).",
    ),
]
AppSpec = Annotated[
    str,
    typer.Option(
        "--app",
        "-a",
        envvar="TASKWARD_APP",
        help="The application object, as module:attribute (importable from the cwd).",
    ),
]
AppDatabase = Annotated[
    str | None,
    typer.Option(
        "--database",
        "-d",
        help="Database URL; exported as TASKWARD_DATABASE_URL before the app is imported, "
        "and used even if the app names another.",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

#: Wide enough that piped tables keep whole ids; a terminal uses its own width.
out = Console(width=None if sys.stdout.isatty() else 160)


def open_app(database: str) -> Taskward:
    """An app on ``database`` whose schema is known to be current."""
    prepare_sqlite(database, create=False)
    app = Taskward(database)
    try:
        app.check_schema()
    except BaseException:
        app.close()
        raise
    return app


def print_json(value: Any) -> None:
    sys.stdout.write(dumps(value, indent=2) + "\n")


#: Given anywhere on the command line, an error prints its trace as well as its line.
TRACEBACK_FLAG = "--traceback"


def exit_code(exc: BaseException) -> int:
    """2 for bad usage or input (nothing was written), 1 for every other failure."""
    if isinstance(exc, InvalidJobError | BadInputError):
        return 2
    if isinstance(exc, typer.TyperException):  # click's usage errors carry their own
        return exc.exit_code
    return 1


def one_line(exc: BaseException) -> str:
    """The message on one line; a driver error as the driver's own first line; a bug
    named as one, with the way to its trace."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
        first = str(exc.orig).strip().splitlines()[:1]
        return f"database error: {first[0] if first else type(exc.orig).__name__}"
    if isinstance(exc, typer.TyperException):
        where = getattr(exc, "ctx", None)
        hint = f" (see `{where.command_path} --help`)" if where is not None else ""
        return " ".join(exc.format_message().split()) + hint
    message = " ".join(str(exc).split())
    if isinstance(exc, TaskwardError | OpsError):
        return message
    return (
        f"unexpected {type(exc).__name__}"
        + (f": {message}" if message else "")
        + f" (run again with {TRACEBACK_FLAG} for the trace)"
    )


def configure_logging(level: int = logging.INFO) -> None:
    """Human log lines on stderr (stdout stays free for data and event lines)."""
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)


async def serve(worker: Worker) -> None:
    """Run ``worker`` until SIGTERM/SIGINT; once it has stopped, ignore further signals.

    ``uv run`` forwards a Ctrl-C its child already got from the terminal, so a
    second SIGINT often arrives just after a fast shutdown: it must not turn a
    clean exit into a KeyboardInterrupt traceback.
    """
    try:
        await worker.run(install_signals=True)
    finally:
        # Blocked while swapping: removing asyncio's handler restores Python's default
        # (KeyboardInterrupt) for an instant, and a signal landing then would be exit 130.
        loop = asyncio.get_running_loop()
        stop_signals = {signal.SIGINT, signal.SIGTERM}
        signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
        for sig in stop_signals:
            loop.remove_signal_handler(sig)
            signal.signal(sig, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stop_signals)
