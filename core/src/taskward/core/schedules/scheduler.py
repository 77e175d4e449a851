"""The app's schedules: register, list, pause and resume them; the leader fires them.

Firing happens in one transaction per schedule: lock its row, work out the due
fire times, insert one job per fire time with the held unique key (schedule,
fire time), advance the row. If two processes believe they lead at the same
moment, the row lock makes the second one see the advanced row, and should
anything still slip through, the unique key turns its insert into a no-op.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Sequence

import sqlalchemy as sa

from taskward.core.clock import Clock
from taskward.core.errors import InvalidScheduleError, ScheduleNotFoundError
from taskward.core.events import JobCompleted, JobEvent
from taskward.core.job import Job
from taskward.core.loops import Loop
from taskward.core.ports import Connect, Enqueuer, LoopHost, Plugin
from taskward.core.schedules import state
from taskward.core.schedules.cron import Schedule
from taskward.core.schedules.state import ScheduleInfo
from taskward.core.store import SqlStore, TransitionHook
from taskward.core.task import JobSpec, Task

log = logging.getLogger("taskward.core.schedules")
# Aliases: inside the class, ``list`` is the method.
Infos = list[ScheduleInfo]
Jobs = list[Job]


class Schedules(Plugin):
    """Every schedule of one app (``app.schedules``): a plugin whose loop the leader runs."""

    name = "schedules"

    def __init__(self, *, connect: Connect, clock: Clock, enqueuer: Enqueuer) -> None:
        self._connect, self._clock, self._enqueuer = connect, clock, enqueuer
        self._defined: dict[str, Schedule] = {}
        self._synced = False

    def add(
        self,
        name: str,
        cron: str,
        target: Task[..., object] | JobSpec,
        *,
        timezone: str = "UTC",
        catch_up: int = 0,
        misfire_grace: float = 60.0,
    ) -> Schedule:
        """Run ``target`` (a task, or ``task.spec(...)`` for arguments) at every fire time.

        ``catch_up`` is how many missed runs to make up after an outage (0: skip them);
        a run within ``misfire_grace`` seconds of its time is on time, not missed.
        """
        spec = target.spec() if isinstance(target, Task) else target
        self._enqueuer.policy_for(spec.task)  # an unknown task fails here, not at 3 a.m.
        schedule = Schedule(
            name=name,
            cron=cron,
            spec=spec,
            timezone=timezone,
            catch_up=catch_up,
            misfire_grace=misfire_grace,
        )
        if self._defined.get(name, schedule) != schedule:
            raise InvalidScheduleError(name, "a different schedule has that name")
        self._defined[name] = schedule
        self._synced = False
        return schedule

    def remove(self, name: str) -> None:
        """Stop firing ``name`` from this process (a config reload dropped or changed it)."""
        self._defined.pop(name, None)

    @property
    def defined(self) -> dict[str, Schedule]:
        """The schedules this process registered, by name."""
        return dict(self._defined)

    # -- operators -----------------------------------------------------------------
    def list(self) -> Infos:
        """Every stored schedule with its pause flag, last and next fire times."""
        with self._connect() as conn:
            self._sync(conn)
            return state.read(conn)

    def get(self, name: str) -> ScheduleInfo:
        with self._connect() as conn:
            self._sync(conn)
            found = state.read(conn, name)
        if not found:
            raise ScheduleNotFoundError(name)
        return found[0]

    def pause(self, name: str) -> ScheduleInfo:
        """Stop firing ``name`` (from any process) until it is resumed."""
        return self._set_paused(name, True)

    def resume(self, name: str) -> ScheduleInfo:
        """Fire ``name`` again from its next fire time; runs due during the pause are skipped."""
        return self._set_paused(name, False)

    def _set_paused(self, name: str, paused: bool) -> ScheduleInfo:
        now = self._clock.now()
        with self._connect() as conn:
            self._sync(conn)
            found = state.read(conn, name, lock=True)
            if not found:
                raise ScheduleNotFoundError(name)
            calendar = self._defined.get(name) or _calendar(found[0])
            state.set_paused(conn, name, paused, calendar.first_at_or_after(now), now)
            return state.read(conn, name)[0]

    # -- the leader's side -----------------------------------------------------------
    def tick(self) -> Jobs:
        """Fire every schedule that is due now; the jobs enqueued (or already there)."""
        now = self._clock.now()
        with self._connect() as conn:
            stored = self._sync(conn)
        due = [
            self._defined[info.name]
            for info in stored
            if info.name in self._defined
            and not info.paused
            and info.next_fire_at is not None
            and info.next_fire_at <= now
        ]
        return [job for schedule in due for job in self._fire(schedule)]

    def _fire(self, schedule: Schedule) -> Jobs:
        now = self._clock.now()
        with self._connect() as conn:
            found = state.read(conn, schedule.name, lock=True)
            if not found:
                return []
            info = found[0]
            if info.paused or info.next_fire_at is None or info.next_fire_at > now:
                return []  # another leader fired it a moment ago
            slots, following = schedule.due(info.next_fire_at, now)
            if not slots or slots[0] != info.next_fire_at:
                log.warning(
                    "schedule %s: skipped runs missed since %s (catch_up=%d)",
                    schedule.name,
                    info.next_fire_at.isoformat(),
                    schedule.catch_up,
                )
            jobs = self._enqueuer.enqueue_many(
                [schedule.job_spec(s) for s in slots], connection=conn
            )
            state.fired(
                conn, schedule.name, slots[-1] if slots else info.last_fire_at, following, now
            )
        return jobs

    def _sync(self, conn: sa.Connection) -> Infos:
        """The stored schedules, after writing this process's new or changed definitions."""
        stored = state.read(conn)
        names = {info.name for info in stored}
        if self._synced and names >= self._defined.keys():
            return stored
        state.sync(conn, self._defined.values(), {i.name: i for i in stored}, self._clock.now())
        self._synced = True
        return state.read(conn)

    @property
    def transition_hooks(self) -> Sequence[TransitionHook]:
        return (self.record_success,)

    def record_success(
        self, _store: SqlStore, conn: sa.Connection, events: Sequence[JobEvent]
    ) -> None:
        """Transition hook: note when a scheduled job completes (the last-success gauge)."""
        names = [
            e.job.meta["schedule"]
            for e in events
            if isinstance(e, JobCompleted) and "schedule" in e.job.meta
        ]
        if names:
            state.succeeded(conn, names, events[0].at)

    def loops(self, host: LoopHost) -> builtins.list[Loop]:
        """The leader-only loop that fires schedules (none if this process has none)."""
        if not self._defined:
            return []

        async def fire() -> None:
            await host.offload(self.tick)

        return [Loop("schedule", host.interval, fire, leader_only=True)]


def _calendar(info: ScheduleInfo) -> Schedule:
    """A schedule known only from its row (this process did not register it)."""
    return Schedule(name=info.name, cron=info.cron, spec=JobSpec(info.task), timezone=info.timezone)
