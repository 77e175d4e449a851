"""The ``taskward`` command line: ``db``, ``worker``, ``enqueue``, ``jobs``, ``demo``.

Failures a user can fix (a wrong URL, an old schema, bad input) end in one line
on stderr and exit status 1 (2 for bad input), never a traceback.
"""

from __future__ import annotations

import sys

import typer

from taskward.core import manage_gc
from taskward.ops.cli._common import exit_code, one_line
from taskward.ops.cli.config import config
from taskward.ops.cli.db import db
from taskward.ops.cli.demo import demo
from taskward.ops.cli.enqueue import enqueue
from taskward.ops.cli.jobs import jobs
from taskward.ops.cli.worker import worker

cli = typer.Typer(
    name="taskward",
    help="Taskward: a durable job queue for Python that you can see into.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
cli.add_typer(db, name="db")
cli.add_typer(config, name="config")
cli.add_typer(jobs, name="jobs")
cli.command()(worker)
cli.command()(enqueue)
cli.command()(demo)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``taskward`` console script."""
    manage_gc()  # this process is Taskward's own: its workers freeze their start-up heap
    try:
        cli(args=argv, prog_name="taskward")
    except KeyboardInterrupt:  # Ctrl-C before a worker had its own handlers: no traceback
        sys.exit(130)
    except Exception as exc:
        code = exit_code(exc)
        if code is None:
            raise
        print(f"taskward: error: {one_line(exc)}", file=sys.stderr)
        sys.exit(code)


__all__ = ["cli", "main"]
