"""Running ``jobs retry|cancel|delete``: count, confirm, act in batches, report.

A filter's action first says how many jobs it will change and asks (``--yes``
answers for scripts; without a terminal it must be given). A progress bar runs
on a terminal, nothing on a pipe.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

import typer

from taskward.ops.admin import Admin, BulkResult, JobFilter
from taskward.ops.cli._common import actor as actor_name
from taskward.ops.cli._common import open_app
from taskward.ops.cli._jobargs import job_filter
from taskward.ops.cli._options import Output
from taskward.ops.cli.output import console, emit
from taskward.ops.errors import BadInputError

DONE = {"retry": "retried", "cancel": "cancelled", "delete": "deleted"}


def run(
    action: str,
    ids: list[str],
    filters: dict[str, Any],
    *,
    yes: bool,
    actor: str | None,
    database: str | None,
    output: Output,
) -> None:
    with contextlib.closing(open_app(database)) as app:
        where = job_filter(app, ids=ids, **filters)
        if where == JobFilter():
            raise BadInputError(
                "ID", f"give job ids or a filter (--state, --queue, ...) to {action}"
            )
        admin = Admin.of(app, actor_name(actor))
        total = admin.count(action, where)
        if not ids:
            if total == 0:
                typer.echo(f"no job to {action} matches {_describe(where)}", err=True)
                emit(output, lambda: BulkResult(action, 0, 0), list)
                return
            _confirm(action, total, where, yes)
        with _progress(action, total) as advance:
            result = getattr(admin, action)(where, progress=advance)
    emit(output, lambda: result, lambda: [_summary(result, where)])


def _describe(where: JobFilter) -> str:
    return ", ".join(f"{k}={_short(v)}" for k, v in where.describe().items()) or "every job"


def _short(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def _confirm(action: str, total: int, where: JobFilter, yes: bool) -> None:
    question = f"{action} {total:,} jobs ({_describe(where)})?"
    if yes:
        return
    if not sys.stdin.isatty():
        raise BadInputError("--yes", f"{question} confirm with --yes (no terminal to ask on)")
    if not typer.confirm(question, default=False, err=True):
        typer.echo("nothing changed", err=True)
        raise typer.Exit(1)


@contextlib.contextmanager
def _progress(action: str, total: int) -> Iterator[Callable[[int], None] | None]:
    """A callback moving a progress bar on a terminal's stderr; None on a pipe."""
    if total <= 1 or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress

    with Progress(console=console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"{action}", total=total)
        yield lambda done: bar.update(task, completed=done)


def _summary(result: BulkResult, where: JobFilter) -> str:
    if result.matched == 0 and where.ids:
        return f"nothing to {result.action}: the job is not in a state it applies to"
    text = f"{DONE[result.action]} {result.changed:,} of {result.matched:,} jobs"
    if result.stopping:
        text += f"; asked the workers of {result.stopping:,} executing jobs to stop them"
    return text
