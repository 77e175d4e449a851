"""``taskward enqueue``: put one job of a registered task on its queue."""

from __future__ import annotations

import contextlib
import json
from typing import Annotated, Any

import typer

from taskward.core import InvalidJobError
from taskward.ops.cli._common import AppDatabase, AppSpec, JsonFlag, print_json
from taskward.ops.errors import BadInputError
from taskward.ops.loader import load_app
from taskward.ops.serialize import job_to_json
from taskward.ops.urls import prepare_sqlite

#: Core field names → the flag a CLI user typed.
FLAGS = {
    "args": "--args",
    "kwargs": "--kwargs",
    "queue": "--queue",
    "priority": "--priority",
    "in_": "--in",
    "max_attempts": "--max-attempts",
    "task": "TASK",
}


def enqueue(
    task: Annotated[str, typer.Argument(help="The registered task name.")],
    app_spec: AppSpec,
    args: Annotated[str, typer.Option("--args", help="Positional arguments, a JSON array.")] = "[]",
    kwargs: Annotated[
        str, typer.Option("--kwargs", help="Keyword arguments, a JSON object.")
    ] = "{}",
    queue: Annotated[str | None, typer.Option(help="Override the task's queue.")] = None,
    priority: Annotated[int | None, typer.Option(help="0 (highest) to 9.")] = None,
    in_: Annotated[
        float | None, typer.Option("--in", help="Run no earlier than this many seconds from now.")
    ] = None,
    max_attempts: Annotated[int | None, typer.Option(help="Override the task's.")] = None,
    database: AppDatabase = None,
    as_json: JsonFlag = False,
) -> None:
    """Enqueue TASK and print the new job's id (a unique task may return an existing job)."""
    call_args = _parse("--args", args, list, "a JSON array")
    call_kwargs = _parse("--kwargs", kwargs, dict, "a JSON object")
    app = load_app(app_spec, database)
    with contextlib.closing(app):
        prepare_sqlite(app.engine.url, create=False)
        app.check_schema()
        try:
            job = app.enqueue(
                task,
                call_args,
                call_kwargs,
                queue=queue,
                priority=priority,
                in_=in_,
                max_attempts=max_attempts,
            )
        except InvalidJobError as exc:
            raise BadInputError(FLAGS.get(exc.field, exc.field), exc.problem) from None
        app.bus.flush()
    if as_json:
        print_json(job_to_json(job))
    else:
        typer.echo(str(job.id))


def _parse(flag: str, text: str, kind: type, expected: str) -> Any:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInputError(flag, f"not valid JSON ({exc}): {text!r}") from None
    if not isinstance(value, kind):
        raise BadInputError(flag, f"must be {expected}, got {type(value).__name__}: {text!r}")
    return value
