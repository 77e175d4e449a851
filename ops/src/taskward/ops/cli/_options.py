"""Options the commands share, as annotated types.

This module is imported to build ``--help``: it must stay light (typer only, no
database stack). Commands import what they use inside their bodies.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

#: ``$TASKWARD_DATABASE_URL``; without it the embedded default (see ``taskward.core.db``).
DATABASE_ENV = "TASKWARD_DATABASE_URL"
#: Given anywhere on the command line, an error prints its trace as well as its line.
TRACEBACK_FLAG = "--traceback"
DEFAULT_HELP = "default: $TASKWARD_DATABASE_URL, else sqlite:///.taskward/taskward.db"


class Output(StrEnum):
    TABLE = "table"
    JSON = "json"
    YAML = "yaml"


class State(StrEnum):
    """Job states (the same words as ``taskward.core.JobState``; a test holds them equal)."""

    SCHEDULED = "scheduled"
    AVAILABLE = "available"
    EXECUTING = "executing"
    RETRYABLE = "retryable"
    COMPLETED = "completed"
    DISCARDED = "discarded"
    CANCELLED = "cancelled"


Database = Annotated[
    str | None,
    typer.Option(
        "--database",
        "-d",
        envvar=DATABASE_ENV,
        show_envvar=False,
        help="Database URL (sqlite:///path or postgresql://user:password@host/db); "
        f"{DEFAULT_HELP}.",
    ),
]
AppSpec = Annotated[
    str | None,
    typer.Option(
        "--app",
        "-a",
        envvar="TASKWARD_APP",
        help="The application object, as module:attribute (importable from the cwd); "
        "default: [app] module of taskward.toml.",
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
OutputOption = Annotated[
    Output,
    typer.Option("--output", "-o", help="table for people; json or yaml for scripts."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="The same as --output json.")]
Wide = Annotated[bool, typer.Option("--wide", "-w", help="Show ids, arguments and times whole.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
Actor = Annotated[
    str | None,
    typer.Option(
        envvar="TASKWARD_ACTOR",
        help="Who is acting, for the audit events (default: cli:USER@HOST).",
    ),
]

# -- the job filter (jobs list, and the bulk actions) ------------------------------------
Queues = Annotated[
    list[str] | None, typer.Option("--queue", "-q", help="Only this queue (repeatable).")
]
Tasks = Annotated[
    list[str] | None, typer.Option("--task", "-t", help="Only this task (repeatable).")
]
States = Annotated[
    list[State] | None, typer.Option("--state", "-s", help="Only this state (repeatable).")
]
Tags = Annotated[
    list[str] | None,
    typer.Option("--tag", help="Only jobs with this tag (repeatable: all of them)."),
]
Since = Annotated[
    str | None,
    typer.Option(
        help="Inserted at or after: an ISO time (UTC unless it says) or an age: 90s, 15m, 2h, 7d."
    ),
]
Until = Annotated[str | None, typer.Option(help="Inserted before: an ISO time or an age.")]
ErrorText = Annotated[
    str | None, typer.Option("--error", help="Text in a recorded error (type, message, traceback).")
]
TraceId = Annotated[str | None, typer.Option(help="Enqueued in this trace (32 hex digits).")]
