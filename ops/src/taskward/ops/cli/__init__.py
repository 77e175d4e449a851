"""The ``taskward`` command line: ``up``, ``worker``, ``enqueue``, ``jobs``, ``queues``,
``schedules``, ``workers``, ``db``.

Every failure ends in one line on stderr, never a traceback (``--traceback``
prints it too), and exit status 1, or 2 for bad usage or input. Building the
command tree imports typer alone: each command imports what it uses when it runs,
so ``--help`` answers at once.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Annotated

import typer
from typer._click.exceptions import NoArgsIsHelpError  # typer vendors click; not re-exported

from taskward.ops.cli._options import TRACEBACK_FLAG
from taskward.ops.cli.config import config
from taskward.ops.cli.db import db
from taskward.ops.cli.demo import demo
from taskward.ops.cli.enqueue import enqueue
from taskward.ops.cli.jobs import jobs
from taskward.ops.cli.queues import queues
from taskward.ops.cli.schedules import schedules
from taskward.ops.cli.up import up
from taskward.ops.cli.worker import worker
from taskward.ops.cli.workers import workers

cli = typer.Typer(
    name="taskward",
    help="Taskward: a durable job queue for Python that you can see into."
    " Exit status: 0 ok, 1 failed, 2 bad usage; add --traceback to any command"
    " to see an error's trace.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: rich's costs ~0.2 s per --help
)
cli.command()(up)
cli.command()(worker)
cli.command()(enqueue)
cli.add_typer(jobs, name="jobs")
cli.add_typer(queues, name="queues")
cli.add_typer(schedules, name="schedules")
cli.add_typer(workers, name="workers")
cli.add_typer(db, name="db")
cli.add_typer(config, name="config")
cli.command(hidden=True)(demo)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"taskward {version('taskward-ops')}")
        raise typer.Exit()


@cli.callback()
def _root(
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            "-c",
            metavar="PATH",
            help="The config file (default: $TASKWARD_CONFIG, else ./taskward.toml if present).",
        ),
    ] = None,
    _version_flag: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Taskward: a durable job queue for Python that you can see into."""
    if config:  # every command reads the file through $TASKWARD_CONFIG
        os.environ["TASKWARD_CONFIG"] = config


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``taskward`` console script: every error is one line on stderr.

    Exit status: 0 done, 1 the command failed (database unreachable, schema out of
    date, the app's import raised, ...), 2 usage (a bad option or value; nothing was
    written), 130 interrupted. ``--traceback`` anywhere before ``--`` adds the trace.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    show_trace = TRACEBACK_FLAG in args[: args.index("--") if "--" in args else len(args)]
    if show_trace:
        args.remove(TRACEBACK_FLAG)
    try:
        code = cli(args=args, prog_name="taskward", standalone_mode=False)
    except NoArgsIsHelpError as exc:  # a bare group: its help, as usage
        exc.show()
        sys.exit(2)
    except (KeyboardInterrupt, typer.Abort):  # Ctrl-C before a worker had its own handlers
        sys.exit(130)
    except BaseException as exc:
        if isinstance(exc, SystemExit):
            raise
        from taskward.ops.cli._common import exit_code, one_line

        if show_trace:
            traceback.print_exception(exc, file=sys.stderr)
        code = exit_code(exc)
        lines = exc.lines() if hasattr(exc, "lines") else [one_line(exc)]  # config: every problem
        for line in lines:
            print(f"taskward: error: {line}", file=sys.stderr)
        sys.exit(code)
    sys.exit(code if isinstance(code, int) else 0)


__all__ = ["cli", "main"]
