"""From an enqueue call with dependencies to rows, in the insert's own transaction.

Before anything is written, :func:`plan` checks every ``depends_on`` reference
and refuses cycles; jobs that have dependencies are inserted waiting. Inside
the transaction, :meth:`Plan.check` locks the existing jobs depended on (so one
finishing concurrently cannot miss its new dependent), and :meth:`Plan.link`
writes the workflow rows and edges and releases whoever can already run.
"""

from __future__ import annotations

import graphlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from taskward.core.errors import DependencyCycleError, InvalidJobError
from taskward.core.events import JobEvent
from taskward.core.job import Job
from taskward.core.states import JobState
from taskward.core.store import SqlStore
from taskward.core.task import JobSpec
from taskward.core.workflows import edges
from taskward.core.workflows.resolve import AWAITING, CANCEL, RUN, settle

#: Meta keys naming a job's workflow and step (set by :class:`Workflow`).
WORKFLOW, STEP = "workflow", "step"
#: A dependency: a position in the same enqueue call, or the id of an existing job.
Ref = int | uuid.UUID


@dataclass(frozen=True, slots=True)
class Node:
    """One job of the call that is part of a workflow."""

    deps: tuple[Ref, ...]
    policy: str
    workflow_id: uuid.UUID | None
    step: str | None


def plan(specs: Sequence[JobSpec], jobs: list[Job]) -> tuple[list[Job], Plan | None]:
    """Check the dependencies of one enqueue call; jobs that must wait are marked so."""
    if not any(s.options.depends_on or WORKFLOW in (s.options.meta or {}) for s in specs):
        return jobs, None
    positions = {id(spec): i for i, spec in enumerate(specs)}
    nodes: dict[int, Node] = {}
    for i, spec in enumerate(specs):
        opts, meta = spec.options, spec.options.meta or {}
        deps = tuple(dict.fromkeys(_ref(d, positions) for d in opts.depends_on))
        if opts.on_dependency_failure not in (CANCEL, RUN):
            raise InvalidJobError(
                "on_dependency_failure",
                f"must be {CANCEL!r} or {RUN!r}, got {opts.on_dependency_failure!r}",
            )
        if deps and (opts.at is not None or opts.in_ is not None):
            raise InvalidJobError(
                "depends_on",
                "a dependent starts when its dependencies allow; it cannot also have at= or in_=",
            )
        if deps or WORKFLOW in meta:
            wf = meta.get(WORKFLOW)
            nodes[i] = Node(
                deps, opts.on_dependency_failure, uuid.UUID(wf) if wf else None, meta.get(STEP)
            )
    _refuse_cycles(nodes, specs)
    waiting = [
        job.evolve(state=JobState.SCHEDULED, scheduled_at=AWAITING)
        if i in nodes and nodes[i].deps
        else job
        for i, job in enumerate(jobs)
    ]
    return waiting, Plan(nodes)


class Plan:
    """The workflow part of one enqueue call."""

    def __init__(self, nodes: dict[int, Node]) -> None:
        self.nodes = nodes
        self.external = {d for n in nodes.values() for d in n.deps if isinstance(d, uuid.UUID)}

    def check(self, conn: sa.Connection) -> None:
        """Lock the existing jobs depended on; refuse ids that are no job."""
        missing = self.external - edges.lock_jobs(conn, self.external).keys()
        if missing:
            raise InvalidJobError("depends_on", f"no job with id {sorted(map(str, missing))[0]}")

    def link(
        self,
        store: SqlStore,
        conn: sa.Connection,
        ids: Sequence[uuid.UUID],
        inserted: set[uuid.UUID],
        now: datetime,
    ) -> list[JobEvent]:
        """Write membership and edges for the inserted jobs; release those that may run.

        ``ids[i]`` is the job at position ``i``: the inserted one, or the job that
        already held its unique key (then it is depended on as it is).
        """

        def job_id(ref: Ref) -> uuid.UUID:
            return ids[ref] if isinstance(ref, int) else ref

        duplicates = {ids[i] for i in range(len(ids)) if ids[i] not in inserted}
        edges.lock_jobs(conn, duplicates)  # existing jobs depended on, like check()
        outside = self.external | duplicates
        known = edges.workflow_ids(conn, outside)
        workflow: dict[uuid.UUID, uuid.UUID] = {}
        members: list[edges.Member] = []
        links: list[edges.Edge] = []
        for i in _in_order(self.nodes):
            node, me = self.nodes[i], ids[i]
            if me not in inserted:
                continue
            first = job_id(node.deps[0]) if node.deps else me
            wf = node.workflow_id or workflow.get(first) or known.get(first) or first
            workflow[me] = wf
            members.append((me, wf, node.step, node.policy))
            for ref in node.deps:
                dep = job_id(ref)
                if dep not in workflow:  # a root, or a job from before: joins as it is
                    members.append((dep, known.get(dep, wf), None, CANCEL))
                links.append((me, dep, len(links), False))
        edges.add_members(conn, members)
        edges.add_edges(conn, links)
        ready_now = {a for a, b, _, _ in links if b in outside}
        return settle(store, conn, ready_now, now)


def _ref(dep: object, positions: dict[int, int]) -> Ref:
    if isinstance(dep, JobSpec):
        if id(dep) not in positions:
            raise InvalidJobError(
                "depends_on", f"the spec of {dep.task} it depends on is not in the same call"
            )
        return positions[id(dep)]
    if isinstance(dep, Job):
        return dep.id
    try:
        return dep if isinstance(dep, uuid.UUID) else uuid.UUID(str(dep))
    except ValueError:
        raise InvalidJobError("depends_on", f"not a job, job id or spec: {dep!r}") from None


def _refuse_cycles(nodes: dict[int, Node], specs: Sequence[JobSpec]) -> None:
    graph = {i: [d for d in n.deps if isinstance(d, int)] for i, n in nodes.items()}
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        names = " → ".join(
            nodes[i].step or specs[i].task if i in nodes else specs[i].task for i in exc.args[1]
        )
        raise DependencyCycleError(
            "depends_on", f"the dependencies form a cycle: {names}"
        ) from None


def _in_order(nodes: dict[int, Node]) -> list[int]:
    """Positions with dependencies after what they depend on."""
    graph = {i: [d for d in n.deps if isinstance(d, int) and d in nodes] for i, n in nodes.items()}
    return list(graphlib.TopologicalSorter(graph).static_order())
