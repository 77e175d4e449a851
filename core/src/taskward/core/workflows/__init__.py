"""Workflows: jobs that wait for other jobs (``depends_on``, groups, chains, fan-out).

A job with dependencies is inserted ``scheduled`` with :data:`AWAITING` as its
time, which the stager never reaches, and becomes ``available`` in the same
transaction that completes its last dependency. When a dependency is discarded
or cancelled the dependent is cancelled too (``on_dependency_failure="cancel"``,
the default) or runs anyway (``"run"``).
"""

from taskward.core.workflows.builder import Workflow, WorkflowRun, chain, group
from taskward.core.workflows.resolve import AWAITING, is_awaiting
from taskward.core.workflows.runtime import (
    dependency_results,
    spawn,
    spawn_async,
    spawned_results,
)
from taskward.core.workflows.service import Workflows
from taskward.core.workflows.view import WorkflowStep, WorkflowView

__all__ = [
    "AWAITING",
    "Workflow",
    "WorkflowRun",
    "WorkflowStep",
    "WorkflowView",
    "Workflows",
    "chain",
    "dependency_results",
    "group",
    "is_awaiting",
    "spawn",
    "spawn_async",
    "spawned_results",
]
