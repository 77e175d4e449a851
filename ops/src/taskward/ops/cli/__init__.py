"""The ``taskward`` command line: ``db``, ``worker``, ``enqueue``, ``jobs``, ``demo``.

Every failure ends in one line on stderr, never a traceback (``--traceback``
prints it too), and exit status 1, or 2 for bad usage or input.
"""

from __future__ import annotations

import sys
import traceback

import typer
from typer._click.exceptions import NoArgsIsHelpError  # typer vendors click; not re-exported

from taskward.core import manage_gc
from taskward.ops.cli._common import TRACEBACK_FLAG, exit_code, one_line
from taskward.ops.cli.config import config
from taskward.ops.cli.db import db
from taskward.ops.cli.demo import demo
from taskward.ops.cli.enqueue import enqueue
from taskward.ops.cli.jobs import jobs
from taskward.ops.cli.worker import worker

cli = typer.Typer(
    name="taskward",
    help="Taskward: a durable job queue for Python that you can see into."
    " Exit status: 0 ok, 1 failed, 2 bad usage; add --traceback to any command"
    " to see an error's trace.",
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
    """Entry point of the ``taskward`` console script: every error is one line on stderr.

    Exit status: 0 done, 1 the command failed (database unreachable, schema out of
    date, the app's import raised, ...), 2 usage (a bad option or value; nothing was
    written), 130 interrupted. ``--traceback`` anywhere before ``--`` adds the trace.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    show_trace = TRACEBACK_FLAG in args[: args.index("--") if "--" in args else len(args)]
    if show_trace:
        args.remove(TRACEBACK_FLAG)
    manage_gc()  # this process is Taskward's own: its workers freeze their start-up heap
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
        if show_trace:
            traceback.print_exception(exc, file=sys.stderr)
        code = exit_code(exc)
        print(f"taskward: error: {one_line(exc)}", file=sys.stderr)
        sys.exit(code)
    sys.exit(code if isinstance(code, int) else 0)


__all__ = ["cli", "main"]
