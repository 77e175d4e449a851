"""One read of the cluster's state from the database, for the collector gauges.

Counts are exact, except on PostgreSQL for a state holding more than
``estimate_above`` rows: there the planner's estimate (``EXPLAIN``) stands in,
per queue, so a scrape never scans millions of completed jobs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from taskward.core import schema
from taskward.core.states import JobState

J = schema.jobs
STATES = tuple(s.value for s in JobState)
LEADER_LEASE = "leader"


@dataclass(slots=True)
class Snapshot:
    """What the gauges show; ``queues`` are all queues known, for zero-filling."""

    queues: set[str] = field(default_factory=set)
    jobs: dict[tuple[str, str], float] = field(default_factory=dict)
    oldest_available: dict[str, float] = field(default_factory=dict)
    oldest_executing: dict[str, float] = field(default_factory=dict)
    paused: set[str] = field(default_factory=set)
    workers_alive: int = 0
    workers_stale: int = 0
    leader: str | None = None
    schedule_next: dict[str, float] = field(default_factory=dict)
    schedule_success: dict[str, float] = field(default_factory=dict)


def read_snapshot(
    conn: sa.Connection,
    now: datetime,
    *,
    queues: Iterable[str],
    stale_after: float,
    estimate_above: int,
) -> Snapshot:
    snap = Snapshot(queues=set(queues))
    _read_queues_and_workers(conn, snap, now, stale_after)
    snap.jobs = _count_jobs(conn, snap.queues, estimate_above)
    snap.queues |= {q for q, _ in snap.jobs}
    snap.oldest_available = _ages(conn, J.c.scheduled_at, "available", now)
    snap.oldest_executing = _ages(conn, J.c.attempted_at, "executing", now)
    lease = schema.leases
    snap.leader = conn.scalar(
        sa.select(lease.c.holder).where(lease.c.name == LEADER_LEASE, lease.c.expires_at >= now)
    )
    _read_schedules(conn, snap)
    return snap


def _read_queues_and_workers(
    conn: sa.Connection, snap: Snapshot, now: datetime, stale_after: float
) -> None:
    for name, paused in conn.execute(sa.select(schema.queues.c.name, schema.queues.c.paused)):
        snap.queues.add(name)
        if paused:
            snap.paused.add(name)
    stale_before = now - timedelta(seconds=stale_after)
    w = schema.workers
    for heartbeat_at, queues in conn.execute(sa.select(w.c.heartbeat_at, w.c.queues)):
        if heartbeat_at >= stale_before:
            snap.workers_alive += 1
        else:
            snap.workers_stale += 1
        snap.queues.update(queues or ())


def _count_jobs(
    conn: sa.Connection, queues: set[str], estimate_above: int
) -> dict[tuple[str, str], float]:
    estimated: list[str] = []
    if conn.dialect.name == "postgresql" and estimate_above > 0:
        estimated = [s for s in STATES if _estimate(conn, J.c.state == s) > estimate_above]
    exact = [s for s in STATES if s not in estimated]
    stmt = (
        sa.select(J.c.queue, J.c.state, sa.func.count())
        .where(J.c.state.in_(exact))
        .group_by(J.c.queue, J.c.state)
    )
    counts: dict[tuple[str, str], float] = {(q, s): n for q, s, n in conn.execute(stmt)}
    for state in estimated:
        for queue in queues:
            counts[(queue, state)] = _estimate(
                conn, sa.and_(J.c.state == state, J.c.queue == queue)
            )
    return counts


def _estimate(conn: sa.Connection, where: sa.ColumnElement[bool]) -> float:
    """The planner's row estimate for ``where`` (PostgreSQL only; no scan)."""
    query = sa.select(sa.literal(1)).select_from(J).where(where)
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    plan: Any = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}").scalar()
    return float(plan[0]["Plan"]["Plan Rows"])


def _ages(
    conn: sa.Connection, column: sa.Column[Any], state: str, now: datetime
) -> dict[str, float]:
    stmt = sa.select(J.c.queue, sa.func.min(column)).where(J.c.state == state).group_by(J.c.queue)
    return {
        queue: max(0.0, (now - oldest).total_seconds())
        for queue, oldest in conn.execute(stmt)
        if oldest is not None
    }


def _read_schedules(conn: sa.Connection, snap: Snapshot) -> None:
    s = schema.schedules
    rows = conn.execute(sa.select(s.c.name, s.c.next_fire_at, s.c.last_success_at))
    for name, next_at, success_at in rows:
        if next_at is not None:
            snap.schedule_next[name] = next_at.timestamp()
        if success_at is not None:
            snap.schedule_success[name] = success_at.timestamp()
