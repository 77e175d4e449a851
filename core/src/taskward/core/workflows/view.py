"""A workflow as people look at it: every job, its state, and what it still waits for."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa

from taskward.core import schema
from taskward.core.errors import WorkflowNotFoundError
from taskward.core.job import Job
from taskward.core.states import FINISHED, JobState
from taskward.core.store import jobs_where
from taskward.core.workflows import edges
from taskward.core.workflows.resolve import is_awaiting

J = schema.jobs


@dataclass(frozen=True, slots=True)
class WorkflowStep:
    """One job of a workflow and its dependencies."""

    job: Job
    #: The step name given by the workflow (``None`` for jobs that joined by ``depends_on``).
    step: str | None
    #: What it was declared to wait for, in order.
    depends_on: tuple[uuid.UUID, ...]
    #: Children spawned at run time by a job it waits for; it waits for them too.
    spawned: tuple[uuid.UUID, ...]
    #: Those of its dependencies that have not completed (empty once it was released).
    waiting_on: tuple[uuid.UUID, ...]


@dataclass(frozen=True, slots=True)
class WorkflowView:
    """Every job of one workflow, oldest first."""

    id: uuid.UUID
    steps: tuple[WorkflowStep, ...]

    def __getitem__(self, step: str) -> WorkflowStep:
        for s in self.steps:
            if s.step == step:
                return s
        raise KeyError(step)

    @property
    def counts(self) -> dict[str, int]:
        """How many of its jobs are in each state."""
        return dict(Counter(s.job.state.value for s in self.steps))

    @property
    def finished(self) -> bool:
        return all(s.job.state in FINISHED for s in self.steps)


def load(conn: sa.Connection, workflow_id: uuid.UUID) -> WorkflowView:
    names = edges.members(conn, workflow_id)
    if not names:
        raise WorkflowNotFoundError(workflow_id)
    jobs = {j.id: j for j in jobs_where(conn, J.c.id.in_(_member_ids(workflow_id)))}
    links = edges.edges_within(conn, workflow_id)
    outside = {dep for _, dep, _, _ in links if dep not in jobs}
    states = {j.id: j.state for j in jobs.values()}
    if outside:
        states.update(_states(conn, outside))
    steps = []
    for job_id in sorted(jobs):
        mine = [(dep, spawned) for a, dep, _, spawned in links if a == job_id]
        waiting = (
            tuple(dep for dep, _ in mine if states.get(dep) is not JobState.COMPLETED)
            if is_awaiting(jobs[job_id])
            else ()
        )
        steps.append(
            WorkflowStep(
                job=jobs[job_id],
                step=names[job_id],
                depends_on=tuple(dep for dep, spawned in mine if not spawned),
                spawned=tuple(dep for dep, spawned in mine if spawned),
                waiting_on=waiting,
            )
        )
    return WorkflowView(workflow_id, tuple(steps))


def _member_ids(workflow_id: uuid.UUID) -> sa.Select[tuple[uuid.UUID]]:
    wj = schema.workflow_jobs
    return sa.select(wj.c.job_id).where(wj.c.workflow_id == workflow_id)


def _states(conn: sa.Connection, ids: set[uuid.UUID]) -> dict[uuid.UUID, JobState]:
    stmt = sa.select(J.c.id, J.c.state).where(J.c.id.in_(ids))
    return {job_id: JobState(state) for job_id, state in conn.execute(stmt)}
