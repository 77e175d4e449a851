"""A worker's background duties: its registration and heartbeat, leadership, staging,
rescuing the jobs of dead workers, and noticing cancellations of its running jobs.

The rescuer is careful in two ways. It never takes back this worker's own jobs
(this process is alive by definition). And it acts only after its own heartbeat
has been healthy for a whole ``rescue_after``: after a database outage every
worker's heartbeat looks stale, and rescuing then would run live jobs twice.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from taskward.core.events import JobEvent
from taskward.core.job import Job
from taskward.core.worker.loops import Loop
from taskward.core.worker.transitions import rescued

if TYPE_CHECKING:
    from taskward.core.worker.worker import Worker

log = logging.getLogger("taskward.core.worker")
LEADER_LEASE = "leader"


class Maintenance:
    """The database side of a worker's life; steps run in the worker's db pool."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.app = worker.app
        self.is_leader = False
        #: Since when the heartbeat has succeeded without a break (app clock); None if failing.
        self.healthy_since: datetime | None = None

    def loops(self) -> list[Loop]:
        w = self.worker

        async def heartbeat() -> None:
            try:
                await w.db(self.heartbeat)
            except Exception:
                self.is_leader, self.healthy_since = False, None
                raise

        async def stage() -> list[JobEvent]:  # returned: the run's report names the jobs
            return await w.db(self.stage)

        async def rescue() -> list[JobEvent]:
            return await w.db(self.rescue)

        return [
            Loop("heartbeat", w.heartbeat_interval, heartbeat),
            Loop("stage", w.stage_interval, stage),
            Loop("rescue", w.heartbeat_interval, rescue, leader_only=True),
            Loop("cancel-check", w.cancel_check_interval, self.check_cancellations),
            Loop("stranded-check", w.heartbeat_interval, self.release_stranded),
            *self.app.maintenance_loops(w),  # schedules, limits: see Taskward.maintenance_loops
        ]

    def register(self) -> None:
        with self.app.connect() as conn:
            self._register(conn, self.app.clock.now())

    def _register(self, conn: sa.Connection, now: datetime) -> None:
        w = self.worker
        self.app.store.register_worker(
            conn, w.id, socket.gethostname(), os.getpid(), dict(w.queues), now
        )

    def unregister(self) -> None:
        with self.app.connect() as conn:
            if self.is_leader:
                self.app.store.release_lease(conn, LEADER_LEASE, self.worker.id)
            self.app.store.unregister_worker(conn, self.worker.id)
        self.is_leader = False

    def heartbeat(self) -> None:
        w, store, now = self.worker, self.app.store, self.app.clock.now()
        with self.app.connect() as conn:
            if not store.heartbeat(conn, w.id, now):
                log.warning("worker %s was presumed dead; registering again", w.id)
                self._register(conn, now)
            leader = store.try_lease(
                conn, LEADER_LEASE, w.id, now, now + timedelta(seconds=w.rescue_after)
            )
            paused = store.paused_queues(conn)
        w.paused = paused
        self.is_leader = leader
        if self.healthy_since is None:
            self.healthy_since = now

    def stage(self, everything: bool = False) -> list[JobEvent]:
        now = self.app.clock.now()
        due_by = now + timedelta(days=365 * 100) if everything else None
        with self.app.connect() as conn:
            events = self.app.store.stage(conn, now, due_by=due_by)
        self.app.emit(events)
        return list(events)

    def rescue(self) -> list[JobEvent]:
        w, store, now = self.worker, self.app.store, self.app.clock.now()
        window = timedelta(seconds=w.rescue_after)
        if self.healthy_since is None or now - self.healthy_since < window:
            return []
        stale_before = now - window
        with self.app.connect() as conn:
            orphans = [j for j in store.orphaned(conn, stale_before) if j.attempted_by != w.id]
            events: list[JobEvent] = [rescued(job, now) for job in orphans]
            store.write_transitions(conn, events)
            dead = [x for x in store.stale_workers(conn, stale_before) if x != w.id]
            store.delete_workers(conn, dead)
        if events:
            log.warning("rescued %d jobs from dead workers", len(events))
        self.app.emit(events)
        return events

    async def release_stranded(self) -> None:
        """Hand back jobs the database says this worker runs but it never received.

        A claim whose commit succeeded but whose reply was lost leaves such jobs;
        this worker's heartbeat would keep the rescuer off them for ever. Only jobs
        claimed a heartbeat interval ago or earlier, and before any claim still in
        flight, are looked at; running and not-yet-settled ones are this worker's own.
        """
        w = self.worker
        completer = w.completer
        now = self.app.clock.now()
        cutoff = w.claims.received_before(now - timedelta(seconds=w.heartbeat_interval))
        executing = await w.db(self._executing_here, cutoff)
        known = w.running_job_ids | completer.unsettled()
        stranded = [job for job in executing if job.id not in known]
        if stranded:
            log.warning(
                "handing back %d jobs claimed for this worker that it never received",
                len(stranded),
            )
        for job in stranded:  # the completer's hand-back is fenced by worker and attempt
            completer.settle(job, None)

    def _executing_here(self, claimed_before: datetime) -> list[Job]:
        with self.app.connect() as conn:
            return self.app.store.executing_by(conn, self.worker.id, claimed_before)

    async def check_cancellations(self) -> None:
        """Stop running jobs whose cancel was requested (the fallback to NOTIFY)."""
        w = self.worker
        if w.running_job_ids:
            for job_id in await w.db(self._cancel_requested):
                w.cancel_running(job_id)

    def _cancel_requested(self) -> set[uuid.UUID]:
        with self.app.connect() as conn:
            return self.app.store.cancel_requested(conn, self.worker.id)
