"""``app.workflows``: the plugin whose hook releases dependents; fan-out, results and views."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from taskward.core import schema
from taskward.core.events import JobEvent
from taskward.core.job import Job
from taskward.core.ports import Connect, Emitter, Enqueuer, Plugin
from taskward.core.states import FINISHED, JobState
from taskward.core.store import SqlStore, TransitionHook
from taskward.core.task import JobSpec
from taskward.core.workflows import edges, view
from taskward.core.workflows.resolve import AWAITING, CANCEL, settle

J = schema.jobs


class Workflows(Plugin):
    """The workflows of one app: a plugin whose transition hook releases dependents."""

    name = "workflows"

    def __init__(self, *, connect: Connect, emitter: Emitter, enqueuer: Enqueuer) -> None:
        self._connect, self._emitter, self._enqueuer = connect, emitter, enqueuer

    @property
    def transition_hooks(self) -> Sequence[TransitionHook]:
        return (self.on_transitions,)

    def on_transitions(
        self, store: SqlStore, conn: sa.Connection, events: Sequence[JobEvent]
    ) -> None:
        """Store hook: jobs that just finished may release (or cancel) their dependents.

        Runs in the transaction that finishes them; what it changes is emitted on commit.
        """
        finished = [e.job.id for e in events if e.job.state in FINISHED]
        if not finished or not _anyone_awaiting(conn):  # the common case: one cheap lookup
            return
        waiting = edges.dependents(conn, finished)
        if waiting:
            self._emitter.emit_on_commit(conn, settle(store, conn, waiting, events[0].at))

    def get(self, workflow_id: uuid.UUID | str) -> view.WorkflowView:
        """Every job of the workflow, its state and what it still waits for."""
        with self._connect() as conn:
            return view.load(conn, uuid.UUID(str(workflow_id)))

    def of(self, job: Job | uuid.UUID | str) -> view.WorkflowView | None:
        """The workflow ``job`` belongs to, if any."""
        job_id = _job_id(job)
        with self._connect() as conn:
            workflow = edges.workflow_ids(conn, [job_id]).get(job_id)
            return view.load(conn, workflow) if workflow else None

    def results_of(self, job: Job | uuid.UUID | str, *, spawned: bool = False) -> list[Any]:
        """Results of what ``job`` waits for: its declared dependencies in order, or with
        ``spawned=True`` the children spawned by them (``None`` for one not completed)."""
        with self._connect() as conn:
            return edges.results(conn, _job_id(job), spawned=spawned)

    def spawn(self, parent: Job, specs: Sequence[JobSpec], first: int) -> list[Job]:
        """Enqueue children of the running ``parent``; whoever waits for it waits for them.

        Each child's held unique key is (parent, ordinal from ``first``), so a retried
        attempt that spawns the same children again gets the existing ones back.
        """
        keyed = [_keyed(spec, f"spawn:{parent.id}:{first + n}") for n, spec in enumerate(specs)]
        with self._connect() as conn:
            children = self._enqueuer.enqueue_many(keyed, connection=conn)
            workflow = edges.workflow_ids(conn, [parent.id]).get(parent.id, parent.id)
            members = [(parent.id, workflow, None, CANCEL)]
            edges.add_members(conn, members + [(c.id, workflow, None, CANCEL) for c in children])
            dependents = sorted(edges.dependents(conn, [parent.id]))
            if dependents:
                awaiting = conn.scalars(
                    sa.select(J.c.id).where(
                        J.c.id.in_(dependents),
                        J.c.state == JobState.SCHEDULED.value,
                        J.c.scheduled_at == AWAITING,
                    )
                ).all()
                edges.add_edges(conn, [(d, c.id, 0, True) for d in awaiting for c in children])
        return children


def _anyone_awaiting(conn: sa.Connection) -> bool:
    """Whether any job waits for dependencies: a seek on the stager's partial index,
    whose condition is spelled out literally so that SQLite uses it."""
    return conn.execute(_AWAITING_ANY).first() is not None


_AWAITING_ANY = (
    sa.select(J.c.id)
    .where(sa.text("state IN ('scheduled', 'retryable')"), J.c.scheduled_at == AWAITING)
    .limit(1)
)


def _keyed(spec: JobSpec, key: str) -> JobSpec:
    opts = spec.options
    if opts.unique_key is not None or opts.held_key is not None:
        return spec
    return replace(spec, options=replace(opts, held_key=key))


def _job_id(job: Job | uuid.UUID | str) -> uuid.UUID:
    return job.id if isinstance(job, Job) else uuid.UUID(str(job))
