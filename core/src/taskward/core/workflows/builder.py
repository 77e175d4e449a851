"""Building workflows: named steps with ``after=``, groups with a barrier, chains.

``group(a, b, c).then(d)`` runs ``d`` once ``a``, ``b`` and ``c`` completed;
``chain(a, b, c)`` runs them one after another; both are :class:`Workflow`\\ s
and nest (``chain(a, group(b, c), d)``). Steps can also be added by name with
the steps they come after, in any order, which is where a cycle can be
written; :meth:`Workflow.enqueue` refuses one before anything is written.
"""

from __future__ import annotations

import graphlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa

from taskward.core._ids import uuid7
from taskward.core.errors import DependencyCycleError, InvalidJobError
from taskward.core.job import Job
from taskward.core.task import BoundTask, Enqueuer, JobSpec, Task
from taskward.core.workflows.plan import STEP, WORKFLOW
from taskward.core.workflows.resolve import CANCEL

Item = JobSpec | Task[..., Any] | BoundTask


@dataclass(frozen=True, slots=True)
class Step:
    spec: JobSpec
    after: tuple[str, ...]
    on_dependency_failure: str


@dataclass(frozen=True, slots=True)
class WorkflowRun:
    """An enqueued workflow: its id and the job of each step."""

    id: uuid.UUID
    jobs: Mapping[str, Job]

    def __getitem__(self, step: str) -> Job:
        return self.jobs[step]


@dataclass(slots=True)
class Workflow:
    """A set of steps and what each waits for; ``tail`` is where ``then`` continues."""

    name: str | None = None
    steps: dict[str, Step] = field(default_factory=dict)
    tail: tuple[str, ...] = ()

    def add(
        self,
        step: str,
        item: Item,
        *,
        after: Iterable[str] = (),
        on_dependency_failure: str = CANCEL,
    ) -> Workflow:
        """Add ``item`` as ``step``, to run when the steps ``after`` completed."""
        if step in self.steps:
            raise InvalidJobError("step", f"the workflow already has a step named {step!r}")
        self.steps[step] = Step(_spec(item), tuple(after), on_dependency_failure)
        self.tail = (step,)
        return self

    def then(self, *items: Item | Workflow, on_dependency_failure: str = CANCEL) -> Workflow:
        """Run ``items`` (in parallel) once everything at the tail completed; they become
        the tail. A :class:`Workflow` item runs its roots after the tail."""
        before, tail = self.tail, []
        for item in items:
            if isinstance(item, Workflow):
                tail += self._absorb(item, before)
            else:
                name = self._name_for(_spec(item))
                self.add(name, item, after=before, on_dependency_failure=on_dependency_failure)
                tail.append(name)
        self.tail = tuple(tail)
        return self

    def enqueue(self, app: Enqueuer, *, connection: sa.Connection | None = None) -> WorkflowRun:
        """Insert every step in one transaction (the caller's, with ``connection``)."""
        order = self._order()
        workflow_id = uuid7()
        built: dict[str, JobSpec] = {}
        for name in order:
            step = self.steps[name]
            opts = step.spec.options
            meta = {**(opts.meta or {}), WORKFLOW: str(workflow_id), STEP: name}
            built[name] = replace(
                step.spec,
                options=replace(
                    opts,
                    meta=meta,
                    depends_on=[*opts.depends_on, *(built[a] for a in step.after)],
                    on_dependency_failure=step.on_dependency_failure,
                ),
            )
        jobs = app.enqueue_many([built[n] for n in order], connection=connection)
        return WorkflowRun(workflow_id, dict(zip(order, jobs, strict=True)))

    def _order(self) -> list[str]:
        graph = {name: step.after for name, step in self.steps.items()}
        for name, step in self.steps.items():
            unknown = [a for a in step.after if a not in self.steps]
            if unknown:
                raise InvalidJobError("after", f"step {name!r} comes after unknown {unknown[0]!r}")
        try:
            return list(graphlib.TopologicalSorter(graph).static_order())
        except graphlib.CycleError as exc:
            cycle = " → ".join(reversed(exc.args[1]))
            raise DependencyCycleError("after", f"the steps form a cycle: {cycle}") from None

    def _absorb(self, other: Workflow, before: tuple[str, ...]) -> list[str]:
        """Copy ``other``'s steps in (renamed where taken), its roots after ``before``."""
        renamed: dict[str, str] = {}
        for name in other._order():
            step = other.steps[name]
            renamed[name] = self._free_name(name)
            after = tuple(renamed[a] for a in step.after) or before
            self.add(
                renamed[name],
                step.spec,
                after=after,
                on_dependency_failure=step.on_dependency_failure,
            )
        return [renamed[name] for name in other.tail]

    def _name_for(self, spec: JobSpec) -> str:
        return self._free_name(spec.task.rsplit(".", 1)[-1])

    def _free_name(self, base: str) -> str:
        name, n = base, 1
        while name in self.steps:
            n += 1
            name = f"{base}-{n}"
        return name


def group(*items: Item | Workflow) -> Workflow:
    """Steps that run in parallel; ``.then(...)`` waits for all of them (a barrier)."""
    return Workflow().then(*items)


def chain(*items: Item | Workflow) -> Workflow:
    """Steps that run one after another, each once the previous one completed."""
    workflow = Workflow()
    for item in items:
        workflow.then(item)
    return workflow


def _spec(item: Item) -> JobSpec:
    if isinstance(item, JobSpec):
        return item
    return item.spec()
