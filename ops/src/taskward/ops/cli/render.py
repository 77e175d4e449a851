"""Tables and panels for people (scripts use ``--output json``).

At 80 columns a table keeps one line per row: ids show their random end
(``…a1b2c3d4e5f6``, which every command accepts), times are ages, and long
tasks and arguments end in an ellipsis. ``wide`` shows all of them whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.box import SIMPLE_HEAD
from rich.console import RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from taskward.core import Job, JobState
from taskward.ops.serialize import dumps

if TYPE_CHECKING:
    from taskward.core.instrumentation.logstore import LogEntry
    from taskward.core.schedules import ScheduleInfo
    from taskward.core.store.overview import QueueView, WorkerView

STATE_STYLES = {
    JobState.SCHEDULED: "magenta",
    JobState.AVAILABLE: "blue",
    JobState.EXECUTING: "cyan",
    JobState.RETRYABLE: "yellow",
    JobState.COMPLETED: "green",
    JobState.DISCARDED: "red",
    JobState.CANCELLED: "dim",
}
TAIL = 8
ELLIPSIS = "…"


def short_id(value: object, wide: bool) -> str:
    text = str(value)
    return text if wide else ELLIPSIS + text[-TAIL:]


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def age(seconds: float | None) -> str:
    """``42s``, ``5m``, ``3h``, ``2d``: short enough for a narrow column."""
    if seconds is None:
        return "-"
    future, seconds = seconds < 0, abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            text = f"{seconds // size:.0f}{unit}"
            break
    else:
        text = f"{seconds:.0f}s"
    return f"in {text}" if future else text


def _when(value: datetime | None, now: datetime, wide: bool) -> str:
    if value is None:
        return "-"
    if wide:
        return _time(value)
    text = age((now - value).total_seconds())
    return text if text.startswith("in ") else f"{text} ago"


def _state(state: JobState) -> Text:
    return Text(state.value, style=STATE_STYLES[state])


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", box=SIMPLE_HEAD, pad_edge=False)


def _fit(table: Table, rows: Sequence[Sequence[Any]], cut: dict[str, int], wide: bool) -> Table:
    """Fill ``table``: one line per row, fixed columns as wide as their values, and the
    ``cut`` ones (name → share of what is left) ending in an ellipsis; ``wide``: all whole."""
    for row in rows:
        table.add_row(*row)
    table.show_header = bool(rows)
    if wide:
        for column in table.columns:
            column.overflow = "fold"
        return table
    table.expand = True
    for index, column in enumerate(table.columns):
        column.no_wrap = True
        if str(column.header) in cut:
            column.ratio = cut[str(column.header)]
            column.overflow = "ellipsis"
        else:
            cells = [len(row[index]) for row in rows]
            column.width = max([len(str(column.header)), *cells])
    return table


def jobs_table(jobs: Sequence[Job], now: datetime, *, wide: bool, more: bool) -> Table:
    title = f"{len(jobs)} jobs, newest first"
    if more and jobs:
        title += f" (next page: --before {jobs[-1].id})"
    table = _table(title)
    for name in ("id", "state", "queue", "task", "try", "args", "inserted" if wide else "age"):
        table.add_column(name, justify="right" if name in ("try", "age") else "left")
    rows = [
        (
            short_id(job.id, wide),
            _state(job.state),
            job.queue,
            job.task,
            f"{job.attempt}/{job.max_attempts}",
            _call(job),
            _time(job.inserted_at) if wide else age(_seconds(now, job.inserted_at)),
        )
        for job in jobs
    ]
    return _fit(table, rows, {"queue": 1, "task": 2, "args": 2}, wide)


def _seconds(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else (now - then).total_seconds()


def _call(job: Job) -> str:
    parts = [dumps(a) for a in job.args] + [f"{k}={dumps(v)}" for k, v in job.kwargs.items()]
    return ", ".join(parts)


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
    table = _table("events (outbox)")
    for name in ("at (UTC)", "event", "state", "try", "data"):
        table.add_column(name, justify="right" if name == "try" else "left")
    rows = [
        (
            str(event["at"])[11:23],  # ISO text: the time, to the millisecond
            event["name"],
            event.get("state") or "-",
            "-" if event.get("attempt") is None else str(event["attempt"]),
            dumps(event.get("data") or {}),
        )
        for event in events
    ]
    return _folding_last(_fit(table, rows, {"data": 1}, wide=False))


def _folding_last(table: Table) -> Table:
    """The last column wraps onto more lines instead of ending in an ellipsis."""
    table.columns[-1].no_wrap, table.columns[-1].overflow = False, "fold"
    return table


def logs_table(job_id: object, entries: Sequence[LogEntry], *, wide: bool) -> Table:
    table = _table(f"logs of job {job_id}")
    for name in ("try", "time (UTC)", "level", "message"):
        table.add_column(name, justify="right" if name == "try" else "left")
    rows = [
        (
            str(entry.attempt),
            entry.ts.isoformat() if wide else entry.ts.strftime("%H:%M:%S.%f")[:-3],
            Text(entry.severity_text, style=_severity_style(entry.severity_number)),
            entry.message + (f"\n{entry.exception}" if entry.exception else ""),
        )
        for entry in entries
    ]
    return _folding_last(_fit(table, rows, {"message": 1}, wide))


def _severity_style(number: int) -> str:
    return "red" if number >= 17 else "yellow" if number >= 13 else ""


#: Job states as queue columns; at 80 columns, short headers and no cancelled count.
COLUMNS = {
    "available": "avail",
    "scheduled": "sched",
    "retryable": "retry",
    "executing": "exec",
    "completed": "done",
    "discarded": "disc",
    "cancelled": None,
}


def queues_table(views: Sequence[QueueView], window: float, *, wide: bool) -> Table:
    minutes = window / 60
    table = _table(f"{len(views)} queues; /min: completed a minute, last {minutes:g} min")
    states = [s for s, short in COLUMNS.items() if wide or short]
    table.add_column("queue")
    table.add_column("status")
    for state in states:
        table.add_column(state if wide else COLUMNS[state] or state, justify="right")
    table.add_column("oldest", justify="right")
    table.add_column("/min", justify="right")
    rows = [
        (
            view.name,
            Text("paused", style="yellow") if view.paused else Text("active", style="green"),
            *(_count(view.counts.get(state, 0)) for state in states),
            age(view.oldest_available),
            f"{view.completed / minutes:.1f}",
        )
        for view in views
    ]
    return _fit(table, rows, {"queue": 1}, wide)


def _count(n: int) -> str:
    if n < 10_000:
        return str(n)
    return f"{n / 1000:.0f}k" if n < 1_000_000 else f"{n / 1_000_000:.1f}M"


def schedules_table(infos: Sequence[ScheduleInfo], now: datetime, *, wide: bool) -> Table:
    table = _table(f"{len(infos)} schedules")
    for name in ("name", "task", "cron", "zone", "status", "last run", "next run"):
        table.add_column(name)
    rows = [
        (
            info.name,
            info.task,
            info.cron,
            info.timezone,
            Text("paused", style="yellow") if info.paused else Text("active", style="green"),
            _when(info.last_fire_at, now, wide),
            _when(info.next_fire_at, now, wide),
        )
        for info in infos
    ]
    return _fit(table, rows, {"name": 2, "task": 2, "zone": 1}, wide)


def workers_table(views: Sequence[WorkerView], now: datetime, *, wide: bool) -> Table:
    table = _table(f"{len(views)} workers")
    for name in ("id", "host", "pid", "queues", "heartbeat", "running"):
        table.add_column(name, justify="right" if name in ("pid", "running") else "left")
    rows = [
        (
            view.id,
            view.host,
            str(view.pid),
            ", ".join(f"{name}={n}" for name, n in sorted(view.queues.items())),
            f"{age((now - view.heartbeat_at).total_seconds())} ago",
            str(view.running),
        )
        for view in views
    ]
    return _fit(table, rows, {"id": 2, "host": 2, "queues": 3}, wide)
