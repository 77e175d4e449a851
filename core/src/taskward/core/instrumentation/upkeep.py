"""Metrics of the maintenance loops and of retention, from their reports on the spine."""

from __future__ import annotations

from taskward.core.events import MaintenanceRan, RetentionPruned
from taskward.core.instrumentation.families import CounterFamily, GaugeFamily
from taskward.core.retention.policy import PRUNABLE

#: Loops whose last success is ``taskward_maintenance_last_success_timestamp_seconds``.
LAST_SUCCESS_KINDS = ("rescue", "purge")


class UpkeepFamilies:
    """``taskward_maintenance_*`` and ``taskward_*pruned_total`` (updated under the
    event metrics' lock, like every other family)."""

    def __init__(self) -> None:
        self.last_success = GaugeFamily(
            "taskward_maintenance_last_success_timestamp_seconds",
            "Last successful maintenance run (rescue and purge here; archive, backup elsewhere).",
            ("kind",),
        )
        self.runs = CounterFamily(
            "taskward_maintenance_runs",
            "Maintenance loop runs in this process, by loop and outcome (ok, error).",
            ("kind", "outcome"),
        )
        self.jobs = CounterFamily(
            "taskward_pruned", "Finished jobs deleted by retention, by state.", ("state",)
        )
        self.events = CounterFamily("taskward_events_pruned", "Outbox events deleted by retention.")
        for state in PRUNABLE:
            self.jobs.zero((state,))
        self.events.zero(())
        self.families = (self.last_success, self.runs, self.jobs, self.events)

    def ran(self, event: MaintenanceRan) -> None:
        self.runs.inc((event.kind, "error" if event.error else "ok"))
        if event.kind in LAST_SUCCESS_KINDS and event.error is None:
            self.last_success.set((event.kind,), event.at.timestamp())

    def pruned(self, event: RetentionPruned) -> None:
        for state, count in event.jobs.items():
            self.jobs.inc((state,), count)
        if event.events:
            self.events.inc((), event.events)
