"""Schedules on both dialects: firing exactly once per fire time, pause/resume, catch-up."""

from __future__ import annotations

import threading

import pytest

from taskward.core import FakeClock, JobSpec, JobState, Taskward, schema
from taskward.core.errors import InvalidScheduleError, ScheduleNotFoundError, UnknownTaskError
from taskward.core.testing import drain
from tests.core.schedule_support import at, fired


def stamp(minute: int) -> str:
    return at(minute).strftime("%Y-%m-%dT%H:%M:%SZ")


def minutely(app: Taskward, **options: object) -> None:
    @app.task(name="report")
    def report(kind: str) -> str:
        return kind

    app.schedules.add("every-minute", "* * * * *", report.spec("daily"), **options)  # type: ignore[arg-type]


def test_a_schedule_fires_once_per_fire_time(clocked_app: Taskward, clock: FakeClock) -> None:
    app = clocked_app
    minutely(app)
    app.schedules.tick()  # registered at 00:00:00, a fire time: it fires now
    clock.set(at(0, 30))
    assert app.schedules.tick() == []
    assert fired(app) == [stamp(0)]
    clock.set(at(1, 5))
    jobs = app.schedules.tick()
    assert [j.args for j in jobs] == [["daily"]]
    assert jobs[0].meta["schedule"] == "every-minute"
    app.schedules.tick()
    assert fired(app) == [stamp(0), stamp(1)]
    info = app.schedules.get("every-minute")
    assert (info.last_fire_at, info.next_fire_at) == (at(1), at(2))


def test_the_next_run_follows_the_calendar_however_long_the_last_one_took(
    clocked_app: Taskward, clock: FakeClock
) -> None:
    app = clocked_app
    minutely(app)
    clock.set(at(0, 50))  # fired 50 s late
    app.schedules.tick()
    drain(app)
    assert app.schedules.get("every-minute").next_fire_at == at(1)


def test_held_keys_stop_a_stale_scheduler_from_firing_a_slot_again(
    clocked_app: Taskward, clock: FakeClock
) -> None:
    app = clocked_app
    minutely(app, catch_up=5)
    clock.set(at(0, 10))
    app.schedules.tick()
    drain(app)  # the job finished: its key is held anyway
    # A second leader with stale bookkeeping: the row still says 00:00 is next.
    with app.connect() as conn:
        conn.execute(schema.schedules.update().values(next_fire_at=at(0)))
    clock.set(at(1, 10))
    app.schedules.tick()
    assert fired(app) == [stamp(0), stamp(1)]


def test_two_schedulers_racing_insert_one_job_per_fire_time(
    database_url: str, clock: FakeClock
) -> None:
    apps = [Taskward(database_url, clock=clock) for _ in range(2)]
    try:
        for app in apps:
            minutely(app)
        apps[0].schedules.list()  # stored at 00:00
        for minute in range(1, 6):
            clock.set(at(minute, 1))
            barrier = threading.Barrier(len(apps) * 2)

            def race(app: Taskward, barrier: threading.Barrier) -> None:
                barrier.wait()
                app.schedules.tick()

            threads = [threading.Thread(target=race, args=(a, barrier)) for a in apps * 2]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert sorted(fired(apps[0])) == [stamp(m) for m in range(1, 6)]
    finally:
        for app in apps:
            app.close()


@pytest.mark.parametrize(("catch_up", "expected"), [(0, [9]), (2, [7, 8, 9])])
def test_after_an_outage_missed_runs_are_skipped_or_caught_up(
    clocked_app: Taskward, clock: FakeClock, catch_up: int, expected: list[int]
) -> None:
    app = clocked_app
    minutely(app, catch_up=catch_up)
    app.schedules.list()  # stored: next fire time 00:00
    clock.set(at(9, 20))  # nobody fired anything for nine minutes
    app.schedules.tick()
    assert fired(app) == [stamp(m) for m in expected]
    assert app.schedules.get("every-minute").next_fire_at == at(10)


def test_paused_schedules_do_not_fire_and_resume_without_making_up_runs(
    clocked_app: Taskward, clock: FakeClock
) -> None:
    app = clocked_app
    minutely(app, catch_up=10)
    assert app.schedules.pause("every-minute").paused
    clock.set(at(5, 10))
    assert app.schedules.tick() == []
    resumed = app.schedules.resume("every-minute")
    assert not resumed.paused and resumed.next_fire_at == at(6)
    clock.set(at(6))
    app.schedules.tick()
    assert fired(app) == [stamp(6)]


def test_schedules_are_listed_with_their_fire_times_and_last_success(
    clocked_app: Taskward, clock: FakeClock
) -> None:
    app = clocked_app
    minutely(app)
    app.schedules.list()
    clock.set(at(0, 1))
    app.schedules.tick()
    (info,) = app.schedules.list()
    assert (info.name, info.cron, info.timezone, info.task) == (
        "every-minute",
        "* * * * *",
        "UTC",
        "report",
    )
    assert info.last_success_at is None
    clock.set(at(0, 7))
    drain(app)
    (job,) = app.list_jobs()
    assert job.state is JobState.COMPLETED
    assert app.schedules.get("every-minute").last_success_at == at(0, 7)


def test_a_process_without_the_definition_can_list_pause_and_resume(
    database_url: str, clock: FakeClock
) -> None:
    owner, operator = Taskward(database_url, clock=clock), Taskward(database_url, clock=clock)
    try:
        minutely(owner)
        owner.schedules.list()
        assert [i.name for i in operator.schedules.list()] == ["every-minute"]
        clock.set(at(3, 30))
        assert operator.schedules.pause("every-minute").paused
        assert operator.schedules.resume("every-minute").next_fire_at == at(4)
        with pytest.raises(ScheduleNotFoundError, match="nightly"):
            operator.schedules.pause("nightly")
    finally:
        owner.close()
        operator.close()


def test_bad_schedules_are_refused_when_added(clocked_app: Taskward) -> None:
    app = clocked_app
    minutely(app)
    with pytest.raises(UnknownTaskError):
        app.schedules.add("x", "* * * * *", JobSpec("nope"))
    with pytest.raises(InvalidScheduleError, match="a different schedule"):
        app.schedules.add("every-minute", "*/5 * * * *", app.tasks["report"])
