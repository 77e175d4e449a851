"""What a schedule is, and its fire times (APScheduler's triggers do the calendar).

Fire times are instants. Two rules make them behave on daylight-saving days:
a wall time skipped by a spring-forward transition fires once, at the
equivalent instant (APScheduler's answer); a wall time that occurs twice in a
fall-back transition fires only at its first occurrence, so a daily 02:30 job
runs once that night. Schedules that need even intervals use ``timezone="UTC"``.

Nothing here drifts: every next fire time comes from the calendar, never from
when the previous run happened or finished.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from taskward.core.errors import InvalidScheduleError
from taskward.core.schedules._crontab import crontab_trigger
from taskward.core.task import JobSpec

TICK = timedelta(microseconds=1)
MINUTE = timedelta(minutes=1)
#: Longer than any daylight-saving shift.
TRANSITION = timedelta(hours=3)
MAX_NAME = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    """A recurring job: ``spec`` is enqueued at every fire time of ``cron`` in ``timezone``."""

    #: Unique name; part of every firing's unique key.
    name: str
    #: A five-field crontab expression (minute hour day month weekday), as cron(8) reads it.
    cron: str
    #: The job to enqueue at each fire time.
    spec: JobSpec
    #: IANA time zone the expression is read in.
    timezone: str = "UTC"
    #: How many missed fire times to make up, most recent first (0: skip them all).
    catch_up: int = 0
    #: Seconds after its fire time a run still counts as on time, not missed.
    misfire_grace: float = 60.0
    _trigger: Any = field(init=False, repr=False, compare=False)
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > MAX_NAME:
            raise InvalidScheduleError(self.name, f"name must be 1 to {MAX_NAME} characters")
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidScheduleError(self.name, f"unknown time zone {self.timezone!r}") from None
        try:
            trigger = crontab_trigger(self.cron, zone)
        except ValueError as exc:
            raise InvalidScheduleError(
                self.name, f"bad cron expression {self.cron!r}: {exc}"
            ) from None
        if not isinstance(self.catch_up, int) or self.catch_up < 0:
            raise InvalidScheduleError(self.name, f"catch_up must be >= 0, got {self.catch_up!r}")
        if not self.misfire_grace > 0:
            raise InvalidScheduleError(
                self.name, f"misfire_grace must be positive, got {self.misfire_grace!r}"
            )
        object.__setattr__(self, "_trigger", trigger)
        object.__setattr__(self, "_zone", zone)

    # -- the calendar ------------------------------------------------------------
    def first_at_or_after(self, when: datetime) -> datetime | None:
        """The first fire time at or after ``when`` (UTC)."""
        start = when
        if self._offset(when - TRANSITION) != self._offset(when):
            # Just after a clock change the trigger, reading wall times, would miss a fire
            # time moved by it (02:30 on a spring-forward night): walk in from before it.
            start = when - TRANSITION
        fire = self._next(start)
        while fire is not None and fire < when:
            fire = self._next(fire + TICK)
        return fire

    def _next(self, when: datetime) -> datetime | None:
        """The trigger's next fire time from ``when``, skipping repeated wall times."""
        while True:
            fire = self._trigger.get_next_fire_time(None, self._past_repeat(when))
            if fire is None:
                return None
            fire = fire.astimezone(UTC)  # arithmetic on zoned datetimes is wall-clock arithmetic
            if not self._repeated(fire):
                return fire  # type: ignore[no-any-return]
            when = fire + TICK

    def fire_times(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Every fire time in ``[start, end]``, in order (UTC)."""
        fire = self.first_at_or_after(start)
        while fire is not None and fire <= end:
            yield fire
            fire = self._next(fire + TICK)

    def latest(self, start: datetime, end: datetime, count: int) -> list[datetime]:
        """The last ``count`` fire times in ``[start, end]``, found without walking from
        ``start`` (a scheduler that was down for a year must not iterate the year)."""
        window = timedelta(minutes=2)
        while True:
            low = max(start, end - window)
            fires = list(self.fire_times(low, end))
            if len(fires) >= count or low == start:
                return fires[-count:]
            window *= 2

    def due(self, next_fire: datetime, now: datetime) -> tuple[list[datetime], datetime | None]:
        """The fire times to enqueue now (``next_fire`` is the first one not yet fired),
        and the next fire time after ``now``.

        The newest due time fires if it is within ``misfire_grace``; of the older
        (missed) ones, the most recent ``catch_up`` fire and the rest are skipped.
        """
        slots = self.latest(next_fire, now, self.catch_up + 1) if next_fire <= now else []
        on_time = [s for s in slots[-1:] if (now - s).total_seconds() <= self.misfire_grace]
        missed = slots[: len(slots) - len(on_time)]
        fire = (missed[-self.catch_up :] if self.catch_up else []) + on_time
        return fire, self.first_at_or_after(now + TICK)

    def job_spec(self, fire_time: datetime) -> JobSpec:
        """The job of one firing: held unique key (schedule, fire time), so it exists once."""
        stamp = fire_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        opts = self.spec.options
        meta: dict[str, Any] = {**(opts.meta or {}), "schedule": self.name, "fire_time": stamp}
        options = replace(opts, held_key=f"schedule:{self.name}@{stamp}", meta=meta)
        return replace(self.spec, options=options)

    def _offset(self, when: datetime) -> timedelta | None:
        return when.astimezone(self._zone).utcoffset()

    def _repeated(self, when: datetime) -> bool:
        """Whether ``when`` is the second occurrence of a wall time (fall-back hour)."""
        return when.astimezone(UTC).astimezone(self._zone).fold == 1

    def _past_repeat(self, when: datetime) -> datetime:
        """``when``, or if it falls in a repeated hour, the first whole minute after it.

        The trigger reads wall times, which are ambiguous there; nothing fires in a
        repeat anyway, and transitions happen on whole minutes.
        """
        if not self._repeated(when):
            return when
        when = when.astimezone(UTC).replace(second=0, microsecond=0) + MINUTE
        while self._repeated(when):
            when += MINUTE
        return when
