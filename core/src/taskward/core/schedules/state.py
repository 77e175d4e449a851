"""The ``taskward_schedules`` table: each schedule's definition, pause flag and fire times.

Definitions live in code (every process registers the same schedules, like its
tasks); the table is what every process, the CLI and the API can list, and
what the leader advances. It is bookkeeping, not the guard against firing
twice: that is each firing's held unique key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from taskward.core import schema
from taskward.core.errors import ScheduleNotFoundError
from taskward.core.schedules.cron import Schedule

S = schema.schedules


@dataclass(frozen=True, slots=True)
class ScheduleInfo:
    """One schedule as stored: what it runs, whether it is paused, and its fire times."""

    name: str
    cron: str
    timezone: str
    task: str
    paused: bool
    #: The fire time of the last firing (not when it ran).
    last_fire_at: datetime | None
    #: The next fire time not yet fired; ``None`` if the calendar has no more.
    next_fire_at: datetime | None
    #: When a job of this schedule last completed.
    last_success_at: datetime | None


def read(conn: sa.Connection, name: str | None = None, *, lock: bool = False) -> list[ScheduleInfo]:
    stmt = sa.select(S).order_by(S.c.name)
    if name is not None:
        stmt = stmt.where(S.c.name == name)
    if lock:
        stmt = stmt.with_for_update()
    return [_info(row) for row in conn.execute(stmt).mappings()]


def sync(
    conn: sa.Connection,
    schedules: Iterable[Schedule],
    stored: Mapping[str, ScheduleInfo],
    now: datetime,
) -> None:
    """Store new definitions and changed ones; a changed calendar restarts from ``now``."""
    for s in schedules:
        row = stored.get(s.name)
        definition = {"cron": s.cron, "timezone": s.timezone, "task": s.spec.task}
        if row is None:
            conn.execute(
                S.insert().values(
                    name=s.name, next_fire_at=s.first_at_or_after(now), updated_at=now, **definition
                )
            )
        elif (row.cron, row.timezone, row.task) != (s.cron, s.timezone, s.spec.task):
            conn.execute(
                S.update()
                .where(S.c.name == s.name)
                .values(next_fire_at=s.first_at_or_after(now), updated_at=now, **definition)
            )


def fired(
    conn: sa.Connection,
    name: str,
    last_fire_at: datetime | None,
    next_fire_at: datetime | None,
    now: datetime,
) -> None:
    conn.execute(
        S.update()
        .where(S.c.name == name)
        .values(last_fire_at=last_fire_at, next_fire_at=next_fire_at, updated_at=now)
    )


def set_paused(
    conn: sa.Connection, name: str, paused: bool, next_fire_at: datetime | None, now: datetime
) -> None:
    values: dict[str, object] = {"paused": paused, "updated_at": now}
    if not paused:  # runs that fell in the pause are not made up
        values["next_fire_at"] = next_fire_at
    if not conn.execute(S.update().where(S.c.name == name).values(**values)).rowcount:
        raise ScheduleNotFoundError(name)


def succeeded(conn: sa.Connection, names: Iterable[str], now: datetime) -> None:
    conn.execute(S.update().where(S.c.name.in_(sorted(set(names)))).values(last_success_at=now))


def _info(row: sa.RowMapping) -> ScheduleInfo:
    return ScheduleInfo(
        name=row["name"],
        cron=row["cron"],
        timezone=row["timezone"],
        task=row["task"],
        paused=row["paused"],
        last_fire_at=row["last_fire_at"],
        next_fire_at=row["next_fire_at"],
        last_success_at=row["last_success_at"],
    )
