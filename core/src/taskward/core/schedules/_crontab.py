"""Standard crontab expressions as APScheduler 3 triggers.

APScheduler's ``CronTrigger.from_crontab`` keeps two historical differences
from cron(8) that users would trip over: weekday 0 is Monday (cron: Sunday,
and 7 is Sunday too), and a restricted day-of-month *and* day-of-week must
both match (cron: either one). Here weekday numbers are turned into names and
the either-one rule is an ``OrTrigger`` of two ``CronTrigger``s; APScheduler
still does all the calendar arithmetic.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def crontab_trigger(expr: str, zone: tzinfo) -> Any:
    """A trigger firing when the five-field ``expr`` matches, read in ``zone``."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields (minute hour day month weekday), got {len(fields)}")
    minute, hour, day, month, weekday = fields
    weekday = weekday_names(weekday)

    def cron(day: str, weekday: str) -> CronTrigger:
        return CronTrigger(
            minute=minute, hour=hour, day=day, month=month, day_of_week=weekday, timezone=zone
        )

    if day != "*" and weekday != "*":
        return OrTrigger([cron(day, "*"), cron("*", weekday)])
    return cron(day, weekday)


def weekday_names(field: str) -> str:
    """A cron weekday field (0 or 7 = Sunday, names, ranges, steps) as a list of names."""
    if field == "*":
        return field
    days: set[int] = set()
    for part in field.split(","):
        span, _, step = part.partition("/")
        every = int(step) if step else 1
        if every < 1:
            raise ValueError(f"bad weekday step in {part!r}")
        if span == "*":
            low, high = 0, 6
        elif "-" in span:
            first, last = span.split("-", 1)
            low, high = _weekday(first), _weekday(last)
        else:
            low = _weekday(span)
            high = 6 if step else low
        if low > high:
            raise ValueError(f"weekday range {span!r} runs backwards")
        days.update(day % 7 for day in range(low, high + 1, every))
    return ",".join(WEEKDAYS[day] for day in sorted(days))


def _weekday(token: str) -> int:
    token = token.strip().lower()
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token)
    if token in WEEKDAYS:
        return WEEKDAYS.index(token)
    raise ValueError(f"bad weekday {token!r} (0-7 or sun-sat)")
