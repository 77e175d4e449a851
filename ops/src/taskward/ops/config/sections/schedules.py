"""``[schedules.NAME]``: recurring jobs from cron expressions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from taskward.ops.config._types import Cron, Duration, TimeZone
from taskward.ops.config.sections._base import Section


class ScheduleSection(Section):
    task: Annotated[str, Field(min_length=1)]
    """The dotted name of the task to enqueue."""
    cron: Cron
    """Five fields, as cron(8) reads them: ``"0 3 * * *"`` is 03:00 every day."""
    timezone: TimeZone = "UTC"
    """IANA time zone the expression is read in."""
    args: list[Any] = []
    """Positional arguments of every firing."""
    kwargs: dict[str, Any] = {}
    """Keyword arguments of every firing."""
    missed: Literal["skip", "catch_up"] = "skip"
    """After an outage: ``skip`` missed runs, or ``catch_up`` (up to ``catch_up_limit``)."""
    catch_up_limit: Annotated[int, Field(ge=1, le=1000)] = 10
    """Most missed runs made up, most recent first, when ``missed = "catch_up"``."""
    misfire_grace: Annotated[Duration, Field(gt=0)] = 60.0
    """A run this late still counts as on time, not missed."""
    paused: bool | None = None
    """``true`` pauses the schedule, ``false`` resumes it; unset leaves it as it is."""
