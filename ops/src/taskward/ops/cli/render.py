"""Jobs for people: rich tables and panels (scripts use ``--json``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from taskward.core import Job, JobState
from taskward.ops.serialize import dumps

STATE_STYLES = {
    JobState.SCHEDULED: "magenta",
    JobState.AVAILABLE: "blue",
    JobState.EXECUTING: "cyan",
    JobState.RETRYABLE: "yellow",
    JobState.COMPLETED: "green",
    JobState.DISCARDED: "red",
    JobState.CANCELLED: "dim",
}


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _state(state: JobState) -> Text:
    return Text(state.value, style=STATE_STYLES[state])


def jobs_table(jobs: Sequence[Job]) -> Table:
    table = Table(title=f"{len(jobs)} jobs, newest first", title_justify="left")
    table.add_column("id", no_wrap=True, min_width=36)
    table.add_column("state", no_wrap=True)
    table.add_column("queue")
    table.add_column("task", overflow="fold")
    table.add_column("attempt", justify="right", no_wrap=True)
    table.add_column("inserted (UTC)", no_wrap=True)
    table.add_column("finished (UTC)", no_wrap=True)
    for job in jobs:
        table.add_row(
            str(job.id),
            _state(job.state),
            job.queue,
            job.task,
            f"{job.attempt}/{job.max_attempts}",
            _time(job.inserted_at),
            _time(job.finished_at),
        )
    return table


def job_detail(job: Job, events: Sequence[dict[str, Any]]) -> list[RenderableType]:
    """The job's fields, result, errors (with tracebacks) and outbox events."""
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="bold")
    fields.add_column(overflow="fold")
    for name, value in (
        ("id", str(job.id)),
        ("task", job.task),
        ("queue", job.queue),
        ("state", _state(job.state)),
        ("attempt", f"{job.attempt} of {job.max_attempts}"),
        ("priority", str(job.priority)),
        ("args", dumps(job.args)),
        ("kwargs", dumps(job.kwargs)),
        ("tags", ", ".join(job.tags) or "-"),
        ("inserted", _time(job.inserted_at)),
        ("scheduled", _time(job.scheduled_at)),
        ("attempted", _time(job.attempted_at)),
        ("finished", _time(job.finished_at)),
        ("worker", job.attempted_by or "-"),
        ("timeout", f"{job.timeout:g}s" if job.timeout else "-"),
        ("unique key", job.unique_key or "-"),
        ("trace id", job.trace_id or "-"),
        ("progress", dumps(job.progress) if job.progress else "-"),
        ("result", dumps(job.result)),
    ):
        fields.add_row(name, value)
    parts: list[RenderableType] = [
        Panel(fields, title=f"job {job.id}", title_align="left", expand=False)
    ]
    for error in job.errors:
        title = f"error, attempt {error['attempt']} at {error['at']}: {error['type']}"
        body = Text(f"{error['message']}\n\n{error.get('traceback') or ''}".rstrip())
        parts.append(Panel(body, title=title, title_align="left", border_style="red", expand=False))
    parts.append(_events_table(events))
    return parts


def _events_table(events: Sequence[dict[str, Any]]) -> Table:
    table = Table(title="events (outbox)", title_justify="left")
    for column in ("at", "event", "state", "attempt", "data"):
        table.add_column(column, overflow="fold")
    for event in events:
        table.add_row(
            str(event["at"]),
            event["name"],
            event.get("state") or "-",
            "-" if event.get("attempt") is None else str(event["attempt"]),
            dumps(event.get("data") or {}),
        )
    return table
