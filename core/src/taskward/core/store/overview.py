"""What an operator lists: queues with their counts, ages and throughput; workers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from taskward.core import schema

J = schema.jobs
W = schema.workers


@dataclass(slots=True)
class QueueView:
    """One queue: jobs by state, the oldest available job's age, recent finishes."""

    name: str
    paused: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    #: Seconds the oldest available job has waited (None: none waiting).
    oldest_available: float | None = None
    #: Jobs that completed / were discarded within the window.
    completed: int = 0
    discarded: int = 0


@dataclass(slots=True)
class WorkerView:
    id: str
    host: str
    pid: int
    queues: dict[str, int]
    started_at: datetime
    heartbeat_at: datetime
    #: Jobs executing under this worker now.
    running: int = 0


def queues(conn: sa.Connection, now: datetime, window: timedelta) -> list[QueueView]:
    """Every queue that has jobs, is paused or is served, sorted by name."""
    views: dict[str, QueueView] = {}

    def view(name: str) -> QueueView:
        return views.setdefault(name, QueueView(name))

    for name, paused in conn.execute(sa.select(schema.queues.c.name, schema.queues.c.paused)):
        view(name).paused = bool(paused)
    for served in conn.scalars(sa.select(W.c.queues)):
        for name in served or ():
            view(name)
    counts = sa.select(J.c.queue, J.c.state, sa.func.count()).group_by(J.c.queue, J.c.state)
    for name, state, n in conn.execute(counts):
        view(name).counts[state] = int(n)
    oldest = (
        sa.select(J.c.queue, sa.func.min(J.c.scheduled_at))
        .where(J.c.state == "available")
        .group_by(J.c.queue)
    )
    for name, at in conn.execute(oldest):
        if at is not None:
            view(name).oldest_available = max(0.0, (now - at).total_seconds())
    recent = (
        sa.select(J.c.queue, J.c.state, sa.func.count())
        .where(J.c.finished_at >= now - window, J.c.state.in_(["completed", "discarded"]))
        .group_by(J.c.queue, J.c.state)
    )
    for name, state, n in conn.execute(recent):
        setattr(view(name), state, int(n))
    return [views[name] for name in sorted(views)]


def workers(conn: sa.Connection) -> list[WorkerView]:
    """Every registered worker with the number of jobs it runs now."""
    running: dict[str, int] = dict(
        conn.execute(
            sa.select(J.c.attempted_by, sa.func.count())
            .where(J.c.state == "executing")
            .group_by(J.c.attempted_by)
        ).all()
    )
    rows: list[Any] = list(conn.execute(sa.select(W).order_by(W.c.host, W.c.pid)).mappings())
    return [
        WorkerView(
            id=row["id"],
            host=row["host"],
            pid=row["pid"],
            queues=dict(row["queues"] or {}),
            started_at=row["started_at"],
            heartbeat_at=row["heartbeat_at"],
            running=int(running.get(row["id"], 0)),
        )
        for row in rows
    ]
