"""``taskward jobs``: find jobs, look inside one, read its logs; retry, cancel, delete.

The job filter (--queue, --task, --state, --tag, --since, --until, --error,
--trace-id) is the same for ``list`` and the bulk actions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Annotated

import typer

from taskward.ops.cli._options import (
    Actor,
    Database,
    ErrorText,
    JsonFlag,
    Output,
    OutputOption,
    Queues,
    Since,
    States,
    Tags,
    Tasks,
    TraceId,
    Until,
    Wide,
    Yes,
)
from taskward.ops.cli.output import choose

jobs = typer.Typer(
    help="List jobs, show one, read its logs; retry, cancel or delete them.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

JobId = Annotated[str, typer.Argument(metavar="ID", help="A job id, or its end as tables show it.")]
JobIds = Annotated[
    list[str] | None,
    typer.Argument(metavar="[ID]...", help="Job ids (or their ends); else the filter's jobs."),
]


@jobs.command("list")
def list_jobs(
    queue: Queues = None,
    task: Tasks = None,
    state: States = None,
    tag: Tags = None,
    since: Since = None,
    until: Until = None,
    error: ErrorText = None,
    trace_id: TraceId = None,
    before: Annotated[
        str | None, typer.Option(metavar="ID", help="The page after this job (keyset).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 50,
    database: Database = None,
    output: OutputOption = Output.TABLE,
    as_json: JsonFlag = False,
    wide: Wide = False,
) -> None:
    """The newest jobs first, filtered; a page at a time."""
    from taskward.core.store import jobquery
    from taskward.ops.cli._common import open_app
    from taskward.ops.cli._jobargs import job_filter, resolve_id
    from taskward.ops.cli.output import emit
    from taskward.ops.cli.render import jobs_table
    from taskward.ops.serialize import job_to_json

    with contextlib.closing(open_app(database)) as app:
        where = job_filter(
            app, queues=queue, tasks=task, states=state, tags=tag, since=since, until=until,
            error=error, trace_id=trace_id,
        )  # fmt: skip
        cursor = resolve_id(app, before) if before else None
        with app.connect() as conn:
            found = jobquery.page(conn, where, before=cursor, limit=limit + 1)
        now = app.clock.now()
    page, more = found[:limit], len(found) > limit
    emit(
        choose(output, as_json),
        lambda: [job_to_json(job) for job in page],
        lambda: [jobs_table(page, now, wide=wide, more=more)],
        wide=wide,
    )


@jobs.command()
def show(
    job_id: JobId,
    database: Database = None,
    output: OutputOption = Output.TABLE,
    as_json: JsonFlag = False,
) -> None:
    """Every field of one job, its errors with tracebacks, its result and its events."""
    from taskward.ops.cli._common import open_app
    from taskward.ops.cli._jobargs import resolve_id
    from taskward.ops.cli.output import emit
    from taskward.ops.cli.render import job_detail
    from taskward.ops.serialize import job_to_json, rows_to_json

    with contextlib.closing(open_app(database)) as app:
        job = app.get_job(resolve_id(app, job_id))
        events = rows_to_json(app.job_events(job.id))
    emit(
        choose(output, as_json),
        lambda: {**job_to_json(job), "events": events},
        lambda: job_detail(job, events),
    )


@jobs.command()
def logs(
    job_id: JobId,
    attempt: Annotated[int | None, typer.Option(min=1, help="Only this attempt.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many.")] = 1000,
    database: Database = None,
    output: OutputOption = Output.TABLE,
    as_json: JsonFlag = False,
    wide: Wide = False,
) -> None:
    """What the job's handler logged, attempt by attempt (INFO and up, as captured)."""
    from taskward.core.instrumentation.logstore import logs_for
    from taskward.ops.cli._common import open_app
    from taskward.ops.cli._jobargs import resolve_id
    from taskward.ops.cli.output import emit
    from taskward.ops.cli.render import logs_table

    with contextlib.closing(open_app(database)) as app:
        job = app.get_job(resolve_id(app, job_id))
        entries = logs_for(app, job.id, attempt=attempt, limit=limit).entries
    emit(
        choose(output, as_json),
        lambda: entries,
        lambda: [logs_table(job.id, entries, wide=wide)],
        wide=wide,
    )


def _bulk_command(action: str, doc: str) -> Callable[..., None]:
    """One bulk verb: the job ids given, or every job the filter matches, confirmed."""

    def command(
        job_ids: JobIds = None,
        queue: Queues = None,
        task: Tasks = None,
        state: States = None,
        tag: Tags = None,
        since: Since = None,
        until: Until = None,
        error: ErrorText = None,
        trace_id: TraceId = None,
        yes: Yes = False,
        actor: Actor = None,
        database: Database = None,
        output: OutputOption = Output.TABLE,
        as_json: JsonFlag = False,
    ) -> None:
        from taskward.ops.cli._bulk import run

        filters = {
            "queues": queue, "tasks": task, "states": state, "tags": tag, "since": since,
            "until": until, "error": error, "trace_id": trace_id,
        }  # fmt: skip
        run(action, job_ids or [], filters, yes=yes, actor=actor, database=database,
            output=choose(output, as_json))  # fmt: skip

    command.__doc__ = doc
    return command


jobs.command("retry")(
    _bulk_command("retry", "Run jobs again now (not executing or available ones): ids or filter.")
)
jobs.command("cancel")(
    _bulk_command(
        "cancel", "Cancel waiting jobs; ask workers to stop executing ones: ids or filter."
    )
)
jobs.command("delete")(
    _bulk_command("delete", "Delete jobs (cancel executing ones first) with their logs and events.")
)
