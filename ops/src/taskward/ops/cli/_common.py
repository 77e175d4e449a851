"""What the commands share once they run: opening the app, errors, logging, signals.

Imported from command bodies, never to build ``--help`` (it loads the database stack).
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import signal
import socket
import sys
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import typer

from taskward.core import InvalidJobError, Taskward, TaskwardError, Worker, manage_gc
from taskward.ops.cli._options import TRACEBACK_FLAG
from taskward.ops.errors import BadInputError, OpsError

if TYPE_CHECKING:
    from taskward.ops.config import TaskwardConfig


def settings(database: str | None = None, app: str | None = None) -> TaskwardConfig:
    """The effective configuration (taskward.toml < environment < these flags)."""
    from taskward.ops.config import load_settings

    flags: dict[str, Any] = {}
    if database:
        flags["database"] = {"url": database}
    if app:
        flags["app"] = {"module": app}
    return load_settings(None, flags)


def open_app(database: str | None) -> Taskward:
    """A bare app (no tasks) on the configured database, its schema known to be current."""
    from taskward.ops.config.apply import open_app as configured

    manage_gc()
    return configured(settings(database), load_tasks=False)


def open_user_app(
    app: str | None, database: str | None, *, migrate: bool = False
) -> tuple[Taskward, TaskwardConfig]:
    """The user's app (``--app``, else ``[app] module``) with the file's policies applied."""
    from taskward.ops.config.apply import open_app as configured

    config = settings(database, app)
    if not config.app.module:
        raise BadInputError(
            "--app", "name the app as module:attribute, or [app] module in taskward.toml"
        )
    manage_gc()
    return configured(config, migrate=migrate), config


def actor(explicit: str | None) -> str:
    """Who the audit events name: ``--actor``/``$TASKWARD_ACTOR``, else ``cli:user@host``."""
    if explicit:
        return explicit
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        user = "unknown"
    return f"cli:{user}@{socket.gethostname()}"


def exit_code(exc: BaseException) -> int:
    """2 for bad usage, input or configuration (nothing was written), 1 for every other
    failure."""
    from taskward.ops.config import ConfigError

    if isinstance(exc, InvalidJobError | BadInputError | ConfigError):
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
