"""One short, coloured line per job outcome: what a person watching ``taskward up`` reads.

``--log-events`` prints the full structured JSON lines instead (:mod:`.eventlog`).
"""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.text import Text

from taskward.core import Taskward
from taskward.core.bus import Subscription
from taskward.core.events import (
    FINISH_EVENTS,
    Event,
    JobCancelled,
    JobCompleted,
    JobDiscarded,
    JobEvent,
    JobFailed,
    JobRescued,
    JobRetryScheduled,
    JobSnoozed,
)

WORDS: dict[type[Event], tuple[str, str]] = {
    JobCompleted: ("completed", "green"),
    JobFailed: ("failed", "yellow"),
    JobRetryScheduled: ("retrying", "yellow"),
    JobSnoozed: ("snoozed", "blue"),
    JobDiscarded: ("discarded", "bold red"),
    JobCancelled: ("cancelled", "magenta"),
    JobRescued: ("rescued", "cyan"),
}


def outcome_line(event: JobEvent) -> Text:
    """``12:00:01 completed demo.greet …a1b2c3d4e5f6 try 1/20 in 0.01s``."""
    word, style = WORDS.get(type(event), (event.name.rsplit(".", 1)[-1], ""))
    job = event.job
    line = Text(f"{event.at:%H:%M:%S} ", style="dim")
    line.append(f"{word:<9}", style=style)
    line.append(f" {job.task} ", style="bold")
    line.append(f"…{str(job.id)[-12:]} {job.attempt}/{job.max_attempts}", style="dim")
    detail = _detail(event)
    if detail:
        line.append(f"  {detail}")
    return line


def _detail(event: JobEvent) -> str:
    duration = getattr(event, "duration", None)
    took = f"in {duration:.2f}s" if duration is not None else ""
    if isinstance(event, JobFailed):
        again = _after(event.next_at, event.at)
        return f"{_short(event.error.type)}: {event.error.message}, again {again}"
    if isinstance(event, JobDiscarded) and event.error is not None:
        return f"{_short(event.error.type)}: {event.error.message}"
    if isinstance(event, JobRetryScheduled):
        return f"{event.reason}, again {_after(event.next_at, event.at)}"
    if isinstance(event, JobSnoozed):
        return f"again {_after(event.next_at, event.at)}"
    if isinstance(event, JobCancelled):
        return event.reason
    if isinstance(event, JobRescued):
        return f"from worker {event.from_worker}"
    return took


def _after(when: datetime, now: datetime) -> str:
    return f"in {max(0.0, (when - now).total_seconds()):.1f}s"


class OutcomeLines:
    """A bus subscriber printing :func:`outcome_line` for every finished attempt."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def __call__(self, event: Event) -> None:
        if isinstance(event, JobEvent):
            self.console.print(outcome_line(event), no_wrap=True, overflow="ellipsis")

    def attach(self, app: Taskward) -> Subscription:
        return app.bus.subscribe(self, name="outcome-lines", kinds=[*FINISH_EVENTS, JobRescued])


def _short(error_type: str) -> str:
    """``taskward.core.errors.JobTimeoutError`` → ``JobTimeoutError``."""
    return error_type.rsplit(".", 1)[-1]
