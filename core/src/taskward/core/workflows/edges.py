"""SQL for the workflow tables: who belongs to which workflow, and who waits for whom.

``taskward_workflow_jobs`` holds one row per job in a workflow (its workflow id,
step name and dependency-failure policy); ``taskward_job_dependencies`` one row
per edge "job waits for depends_on" (``spawned`` marks edges added when a job
fanned out at run time).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from taskward.core import schema
from taskward.core.states import JobState

J = schema.jobs
WJ = schema.workflow_jobs
D = schema.job_dependencies

#: ``(job_id, workflow_id, step, on_dependency_failure)``
Member = tuple[uuid.UUID, uuid.UUID, str | None, str]
#: ``(job_id, depends_on, position, spawned)``
Edge = tuple[uuid.UUID, uuid.UUID, int, bool]


def dependents(conn: sa.Connection, ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Jobs that wait for any of ``ids``."""
    if not ids:
        return set()
    return set(conn.scalars(sa.select(D.c.job_id).where(D.c.depends_on.in_(ids)).distinct()))


def dependency_states(
    conn: sa.Connection, ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[uuid.UUID, JobState]]]:
    """For each of ``ids``: its dependencies and their states."""
    stmt = (
        sa.select(D.c.job_id, D.c.depends_on, J.c.state)
        .join(J, J.c.id == D.c.depends_on)
        .where(D.c.job_id.in_(ids))
    )
    found: dict[uuid.UUID, list[tuple[uuid.UUID, JobState]]] = {i: [] for i in ids}
    for job_id, dep, state in conn.execute(stmt):
        found[job_id].append((dep, JobState(state)))
    return found


def policies(conn: sa.Connection, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    stmt = sa.select(WJ.c.job_id, WJ.c.on_dependency_failure).where(WJ.c.job_id.in_(ids))
    return dict(conn.execute(stmt).all())


def workflow_ids(conn: sa.Connection, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    if not ids:
        return {}
    stmt = sa.select(WJ.c.job_id, WJ.c.workflow_id).where(WJ.c.job_id.in_(ids))
    return dict(conn.execute(stmt).all())


def lock_jobs(conn: sa.Connection, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, JobState]:
    """Lock ``ids`` (in id order, so two transactions cannot deadlock); their states."""
    if not ids:
        return {}
    stmt = sa.select(J.c.id, J.c.state).where(J.c.id.in_(ids)).order_by(J.c.id).with_for_update()
    return {job_id: JobState(state) for job_id, state in conn.execute(stmt)}


def add_members(conn: sa.Connection, members: Iterable[Member]) -> None:
    """Record workflow membership; jobs already in a workflow keep theirs."""
    rows = {m[0]: m for m in members}
    if not rows:
        return
    taken = set(conn.scalars(sa.select(WJ.c.job_id).where(WJ.c.job_id.in_(rows))))
    values = [
        {"job_id": j, "workflow_id": wf, "step": step, "on_dependency_failure": policy}
        for j, wf, step, policy in rows.values()
        if j not in taken
    ]
    if values:
        conn.execute(WJ.insert(), values)


def add_edges(conn: sa.Connection, edges: Iterable[Edge]) -> None:
    """Record that jobs wait for others; an edge already recorded is kept as it is."""
    rows = {(e[0], e[1]): e for e in edges}
    if not rows:
        return
    waiting = {job_id for job_id, _ in rows}
    stmt = sa.select(D.c.job_id, D.c.depends_on).where(D.c.job_id.in_(waiting))
    taken = {(a, b) for a, b in conn.execute(stmt)}
    values = [
        {"job_id": a, "depends_on": b, "position": pos, "spawned": spawned}
        for (a, b), (_, _, pos, spawned) in rows.items()
        if (a, b) not in taken
    ]
    if values:
        conn.execute(D.insert(), values)


def results(conn: sa.Connection, job_id: uuid.UUID, *, spawned: bool) -> list[Any]:
    """Results of what ``job_id`` waits for: declared ones in order, or spawned ones."""
    stmt = (
        sa.select(J.c.result)
        .join(D, D.c.depends_on == J.c.id)
        .where(D.c.job_id == job_id, D.c.spawned == spawned)
        .order_by(D.c.position, D.c.depends_on)
    )
    return list(conn.scalars(stmt))


def members(conn: sa.Connection, workflow_id: uuid.UUID) -> Mapping[uuid.UUID, str | None]:
    """Job ids of a workflow and their step names."""
    stmt = sa.select(WJ.c.job_id, WJ.c.step).where(WJ.c.workflow_id == workflow_id)
    return dict(conn.execute(stmt).all())


def edges_within(conn: sa.Connection, workflow_id: uuid.UUID) -> list[Edge]:
    """Every edge out of the jobs of a workflow, in declaration order."""
    ids = sa.select(WJ.c.job_id).where(WJ.c.workflow_id == workflow_id)
    stmt = (
        sa.select(D.c.job_id, D.c.depends_on, D.c.position, D.c.spawned)
        .where(D.c.job_id.in_(ids))
        .order_by(D.c.job_id, D.c.position, D.c.depends_on)
    )
    return [(a, b, pos, spawned) for a, b, pos, spawned in conn.execute(stmt)]
