"""Collector gauges: the cluster's state read from the database at scrape time.

One reading is reused for ``collector_ttl`` seconds and concurrent scrapes
share it, so any number of scrapers costs one set of queries per TTL. If the
database cannot be read, only ``taskward_collector_*`` is exported (stale
numbers would hide the outage) and ``taskward_collector_errors_total`` grows.
Several processes may export these same gauges: dashboards take ``max by``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from taskward.core.instrumentation.config import MetricsConfig
from taskward.core.instrumentation.guard import Guard
from taskward.core.instrumentation.snapshot import STATES, Snapshot, read_snapshot

if TYPE_CHECKING:
    from taskward.core.app import Taskward


class DatabaseCollector(Collector):
    def __init__(
        self,
        app: Taskward,
        config: MetricsConfig,
        local_workers: Callable[[], set[str]],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.config = config
        self._local_workers = local_workers
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._read_at: float | None = None
        self._duration = 0.0
        self._errors = 0
        self._guard = Guard("the metrics collector's database read")

    def describe(self) -> Iterator[Metric]:
        return _families(None, set(), self._duration, self._errors, describe=True)

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            now = self._monotonic()
            if self._read_at is None or now - self._read_at >= self.config.collector_ttl:
                self._read_at = now
                self._snapshot = self._read()
            snapshot, duration, errors = self._snapshot, self._duration, self._errors
        return _families(snapshot, self._local_workers(), duration, errors)

    def _read(self) -> Snapshot | None:
        began = time.perf_counter()
        try:
            queues = set(self.config.queues) | {t.policy.queue for t in self.app.tasks.values()}
            with self.app.connect() as conn:
                return read_snapshot(
                    conn,
                    self.app.clock.now(),
                    queues=queues,
                    stale_after=self.config.stale_after,
                    estimate_above=self.config.estimate_above,
                )
        except Exception:
            self._errors += 1
            self._guard.failed()
            return None
        finally:
            self._duration = time.perf_counter() - began


def _families(
    snap: Snapshot | None,
    local_workers: set[str],
    duration: float,
    errors: int,
    *,
    describe: bool = False,
) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "taskward_collector_duration_seconds", "Time of the last database read.", value=duration
    )
    yield CounterMetricFamily(
        "taskward_collector_errors", "Database reads that failed.", value=errors
    )
    if snap is None and not describe:  # the read failed
        return
    jobs = GaugeMetricFamily("taskward_jobs", "Jobs by queue and state.", labels=("queue", "state"))
    oldest = GaugeMetricFamily(
        "taskward_queue_oldest_job_age_seconds",
        "Age of the oldest available job.",
        labels=["queue"],
    )
    executing = GaugeMetricFamily(
        "taskward_queue_oldest_executing_age_seconds",
        "Age of the oldest executing attempt.",
        labels=["queue"],
    )
    paused = GaugeMetricFamily(
        "taskward_queue_paused", "1 if the queue is paused.", labels=["queue"]
    )
    workers = GaugeMetricFamily("taskward_workers", "Workers by heartbeat.", labels=["state"])
    leader = GaugeMetricFamily("taskward_leader", "1 if this process holds the leader lease.")
    next_fire = GaugeMetricFamily(
        "taskward_schedule_next_fire_timestamp_seconds", "Next firing.", labels=["schedule"]
    )
    success = GaugeMetricFamily(
        "taskward_schedule_last_success_timestamp_seconds",
        "Last successful run.",
        labels=["schedule"],
    )
    if snap is not None:
        for queue in sorted(snap.queues):
            for state in STATES:
                jobs.add_metric([queue, state], snap.jobs.get((queue, state), 0))
            oldest.add_metric([queue], snap.oldest_available.get(queue, 0.0))
            executing.add_metric([queue], snap.oldest_executing.get(queue, 0.0))
            paused.add_metric([queue], 1 if queue in snap.paused else 0)
        workers.add_metric(["alive"], snap.workers_alive)
        workers.add_metric(["stale"], snap.workers_stale)
        leader.add_metric([], 1 if snap.leader in local_workers else 0)
        for name, at in sorted(snap.schedule_next.items()):
            next_fire.add_metric([name], at)
        for name, at in sorted(snap.schedule_success.items()):
            success.add_metric([name], at)
    yield from (jobs, oldest, executing, paused, workers, leader, next_fire, success)
