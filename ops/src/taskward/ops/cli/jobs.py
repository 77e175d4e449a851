"""``taskward jobs``: find jobs and look inside one."""

from __future__ import annotations

import contextlib
from typing import Annotated

import typer

from taskward.core import JobState
from taskward.ops.cli._common import Database, JsonFlag, open_app, out, print_json
from taskward.ops.cli.render import job_detail, jobs_table
from taskward.ops.serialize import job_to_json, rows_to_json
from taskward.ops.urls import DEFAULT_URL

jobs = typer.Typer(help="List jobs and show one in detail.", no_args_is_help=True)


@jobs.command("list")
def list_jobs(
    state: Annotated[JobState | None, typer.Option(help="Only jobs in this state.")] = None,
    queue: Annotated[str | None, typer.Option(help="Only jobs of this queue.")] = None,
    task: Annotated[str | None, typer.Option(help="Only jobs of this task.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 50,
    database: Database = DEFAULT_URL,
    as_json: JsonFlag = False,
) -> None:
    """The newest jobs first."""
    with contextlib.closing(open_app(database)) as app:
        found = app.list_jobs(
            state=state.value if state else None, queue=queue, task=task, limit=limit
        )
    if as_json:
        print_json([job_to_json(job) for job in found])
    else:
        out.print(jobs_table(found))


@jobs.command()
def show(
    job_id: Annotated[str, typer.Argument(metavar="ID", help="The job id.")],
    database: Database = DEFAULT_URL,
    as_json: JsonFlag = False,
) -> None:
    """Every field of one job, its errors with tracebacks, its result and its events."""
    with contextlib.closing(open_app(database)) as app:
        job = app.get_job(job_id)
        events = rows_to_json(app.job_events(job.id))
    if as_json:
        print_json({**job_to_json(job), "events": events})
    else:
        out.print(*job_detail(job, events))
