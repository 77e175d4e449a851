"""Fire times of schedules: time zones, daylight-saving days, missed runs (no database)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from taskward.core import JobSpec
from taskward.core.errors import InvalidScheduleError
from taskward.core.schedules import Schedule
from taskward.core.schedules._crontab import weekday_names

BERLIN = ZoneInfo("Europe/Berlin")


def schedule(cron: str, tz: str = "UTC", **kw: object) -> Schedule:
    return Schedule(name="s", cron=cron, spec=JobSpec("t"), timezone=tz, **kw)  # type: ignore[arg-type]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def fires(s: Schedule, start: datetime, end: datetime) -> list[datetime]:
    return list(s.fire_times(start, end))


def test_a_daily_schedule_fires_at_its_local_time_in_its_zone() -> None:
    nine = schedule("0 9 * * 1-5", "America/New_York")
    # 2026-01-05 is a Monday (EST, UTC-5); 2026-07-06 is a Monday (EDT, UTC-4).
    assert nine.first_at_or_after(utc(2026, 1, 5)) == utc(2026, 1, 5, 14)
    assert nine.first_at_or_after(utc(2026, 7, 6)) == utc(2026, 7, 6, 13)
    # Friday's run is followed by Monday's: weekdays only.
    assert nine.first_at_or_after(utc(2026, 1, 9, 15)) == utc(2026, 1, 12, 14)


def test_spring_forward_a_skipped_wall_time_fires_once_at_the_equivalent_instant() -> None:
    nightly = schedule("30 2 * * *", "Europe/Berlin")
    # 2026-03-29 02:00 CET jumps to 03:00 CEST: 02:30 does not exist that night.
    got = fires(nightly, utc(2026, 3, 28), utc(2026, 3, 31))
    assert got == [utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)]
    assert [g.astimezone(BERLIN).hour for g in got] == [2, 3, 2]


def test_fall_back_a_repeated_wall_time_fires_only_once() -> None:
    nightly = schedule("30 2 * * *", "Europe/Berlin")
    # 2026-10-25 03:00 CEST falls back to 02:00 CET: 02:30 happens twice that night.
    got = fires(nightly, utc(2026, 10, 24), utc(2026, 10, 27))
    assert got == [utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]


def test_fall_back_no_wall_time_fires_twice_and_utc_schedules_keep_even_intervals() -> None:
    start, end = utc(2026, 10, 24, 22), utc(2026, 10, 25, 4)
    local = fires(schedule("*/30 * * * *", "Europe/Berlin"), start, end)
    walls = [f.astimezone(BERLIN).replace(tzinfo=None) for f in local]
    assert len(walls) == len(set(walls))
    assert walls == sorted(walls)
    even = fires(schedule("*/30 * * * *"), start, end)
    assert all(b - a == timedelta(minutes=30) for a, b in itertools.pairwise(even))
    assert len(even) == 13


def test_next_fire_times_come_from_the_calendar_not_from_when_a_run_happened() -> None:
    hourly = schedule("0 * * * *")
    # However late the last run happened or finished, the next one is on the hour.
    for late in (0, 1, 59 * 60, 3599):
        _, following = hourly.due(
            utc(2026, 1, 1, 10), utc(2026, 1, 1, 10) + timedelta(seconds=late)
        )
        assert following == utc(2026, 1, 1, 11)


@pytest.mark.parametrize(
    ("catch_up", "grace", "expected"),
    [
        # 00:05 is 30 s late: on time. Older ones are missed.
        (0, 60.0, [(0, 5)]),
        (2, 60.0, [(0, 3), (0, 4), (0, 5)]),
        (10, 60.0, [(0, 1), (0, 2), (0, 3), (0, 4), (0, 5)]),
        # With a 10 s grace even 00:05 is missed.
        (0, 10.0, []),
        (2, 10.0, [(0, 4), (0, 5)]),
    ],
)
def test_missed_runs_are_skipped_or_caught_up_at_most_n(
    catch_up: int, grace: float, expected: list[tuple[int, int]]
) -> None:
    minutely = schedule("* * * * *", catch_up=catch_up, misfire_grace=grace)
    due, following = minutely.due(utc(2026, 1, 1, 0, 1), utc(2026, 1, 1, 0, 5, 30))
    assert due == [utc(2026, 1, 1, h, m) for h, m in expected]
    assert following == utc(2026, 1, 1, 0, 6)


def test_a_long_outage_is_not_walked_minute_by_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    minutely = schedule("* * * * *", catch_up=3)
    calls = 0
    original = Schedule.first_at_or_after

    def counting(self: Schedule, when: datetime) -> datetime | None:
        nonlocal calls
        calls += 1
        return original(self, when)

    monkeypatch.setattr(Schedule, "first_at_or_after", counting)
    due, _ = minutely.due(utc(2025, 1, 1), utc(2026, 1, 1, 0, 0, 10))
    assert due == [utc(2025, 12, 31, 23, m) for m in (57, 58, 59)] + [utc(2026, 1, 1)]
    assert calls < 100  # a year of minutes is 525,600 fire times


def test_each_firing_has_a_held_key_of_schedule_and_fire_time() -> None:
    s = Schedule(name="report", cron="0 3 * * *", spec=JobSpec("t", (1,)), timezone="Europe/Paris")
    spec = s.job_spec(utc(2026, 6, 1, 1))
    assert spec.options.held_key == "schedule:report@2026-06-01T01:00:00Z"
    assert spec.options.meta == {"schedule": "report", "fire_time": "2026-06-01T01:00:00Z"}
    assert spec.args == (1,)


@pytest.mark.parametrize(
    ("cron", "tz", "problem"),
    [
        ("61 * * * *", "UTC", "bad cron expression"),
        ("* * *", "UTC", "bad cron expression"),
        ("* * * * *", "Mars/Olympus", "unknown time zone"),
    ],
)
def test_invalid_schedules_are_refused_with_the_reason(cron: str, tz: str, problem: str) -> None:
    with pytest.raises(InvalidScheduleError, match=problem):
        schedule(cron, tz)


@pytest.mark.parametrize(
    ("field", "names"),
    [
        ("0", "sun"),
        ("7", "sun"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("5-7", "sun,fri,sat"),
        ("*/2", "sun,tue,thu,sat"),
        ("mon,WED", "mon,wed"),
        ("1/3", "mon,thu"),
    ],
)
def test_weekdays_are_numbered_as_cron_numbers_them(field: str, names: str) -> None:
    assert weekday_names(field) == names


def test_a_restricted_day_and_weekday_fire_when_either_matches_as_in_cron() -> None:
    # The 13th, and every Friday: 2026-02-06 (Fri), 2026-02-13 (Fri, the 13th), 2026-02-20 (Fri).
    got = fires(schedule("0 12 13 * 5"), utc(2026, 2, 1), utc(2026, 3, 14))
    assert [g.day for g in got] == [6, 13, 20, 27, 6, 13]


def test_a_fire_time_moved_by_spring_forward_is_due_just_after_it() -> None:
    nightly = schedule("30 2 * * *", "Europe/Paris")  # 02:30 does not exist on 2026-03-29
    due, following = nightly.due(utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 1, 31))
    assert due == [utc(2026, 3, 29, 1, 30)]
    assert following == utc(2026, 3, 30, 0, 30)
