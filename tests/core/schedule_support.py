"""Helpers shared by the schedule tests."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from taskward.core import Taskward, schema

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(minute: int, second: int = 0) -> datetime:
    return T0.replace(minute=minute, second=second)


def fired(app: Taskward) -> list[str]:
    """The fire times of every job the schedules enqueued, in insertion order."""
    with app.connect() as conn:
        rows = conn.execute(sa.select(schema.jobs.c.meta).order_by(schema.jobs.c.id))
        return [meta["fire_time"] for (meta,) in rows]
