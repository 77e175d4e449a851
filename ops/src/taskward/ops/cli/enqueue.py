"""``taskward enqueue``: put one job of a registered task on its queue."""

from __future__ import annotations

import contextlib
import json
from typing import Annotated, Any

import typer

from taskward.ops.cli._options import Actor, AppDatabase, AppSpec, JsonFlag, Output, OutputOption
from taskward.ops.cli.output import choose
from taskward.ops.errors import BadInputError

#: Core field names → the flag a CLI user typed.
FLAGS = {
    "args": "--args",
    "kwargs": "--kwargs",
    "queue": "--queue",
    "priority": "--priority",
    "in_": "--in",
    "max_attempts": "--max-attempts",
    "tags": "--tag",
    "task": "TASK",
}


def enqueue(
    task: Annotated[str, typer.Argument(help="The registered task name.")],
    app_spec: AppSpec = None,
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
    tag: Annotated[list[str] | None, typer.Option(help="A tag (repeatable).")] = None,
    actor: Actor = None,
    database: AppDatabase = None,
    output: OutputOption = Output.TABLE,
    as_json: JsonFlag = False,
) -> None:
    """Enqueue TASK and print the new job's id (a unique task may return an existing job)."""
    from taskward.core import InvalidJobError
    from taskward.ops.admin import Admin
    from taskward.ops.cli._common import actor as actor_name
    from taskward.ops.cli._common import open_user_app
    from taskward.ops.cli.output import emit
    from taskward.ops.serialize import job_to_json

    call_args = _parse("--args", args, list, "a JSON array")
    call_kwargs = _parse("--kwargs", kwargs, dict, "a JSON object")
    with contextlib.closing(open_user_app(app_spec, database)[0]) as app:
        try:
            job = Admin.of(app, actor_name(actor)).enqueue(
                task,
                call_args,
                call_kwargs,
                queue=queue,
                priority=priority,
                in_=in_,
                max_attempts=max_attempts,
                tags=tuple(tag or ()),
            )
        except InvalidJobError as exc:
            raise BadInputError(FLAGS.get(exc.field, exc.field), exc.problem) from None
        app.bus.flush()
    emit(choose(output, as_json), lambda: job_to_json(job), lambda: [str(job.id)])


def _parse(flag: str, text: str, kind: type, expected: str) -> Any:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInputError(flag, f"not valid JSON ({exc}): {text!r}") from None
    if not isinstance(value, kind):
        raise BadInputError(flag, f"must be {expected}, got {type(value).__name__}: {text!r}")
    return value
