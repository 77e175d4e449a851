"""A worker's background duties: its registration and heartbeat, leadership, staging and
rescuing the jobs of dead workers.

The rescuer is careful in two ways. It never takes back this worker's own jobs
(this process is alive by definition). And it acts only after its own heartbeat
has been healthy for a whole ``rescue_after``: after a database outage every
worker's heartbeat looks stale, and rescuing then would run live jobs twice.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta

import sqlalchemy as sa

from taskward.core.events import JobEvent
from taskward.core.ports import Runtime
from taskward.core.worker.transitions import rescued

log = logging.getLogger("taskward.core.worker")
LEADER_LEASE = "leader"


class Maintenance:
    """The database side of a worker's life; its steps block (run them in the db pool)."""

    def __init__(
        self, runtime: Runtime, *, worker_id: str, queues: dict[str, int], rescue_after: float
    ) -> None:
        self._rt = runtime
        self._worker_id = worker_id
        self._queues = dict(queues)
        self._rescue_after = timedelta(seconds=rescue_after)
        self.is_leader = False
        #: Queues paused cluster-wide, as of the last heartbeat.
        self.paused: frozenset[str] = frozenset()
        #: Since when the heartbeat has succeeded without a break (app clock); None if failing.
        self.healthy_since: datetime | None = None

    def register(self) -> None:
        with self._rt.connect() as conn:
            self._register(conn, self._rt.clock.now())

    def _register(self, conn: sa.Connection, now: datetime) -> None:
        self._rt.store.register_worker(
            conn, self._worker_id, socket.gethostname(), os.getpid(), self._queues, now
        )

    def unregister(self) -> None:
        with self._rt.connect() as conn:
            if self.is_leader:
                self._rt.store.release_lease(conn, LEADER_LEASE, self._worker_id)
            self._rt.store.unregister_worker(conn, self._worker_id)
        self.is_leader = False

    def heartbeat(self) -> None:
        """Say this worker lives, take or renew the leader lease, read paused queues."""
        store, now, me = self._rt.store, self._rt.clock.now(), self._worker_id
        try:
            with self._rt.connect() as conn:
                if not store.heartbeat(conn, me, now):
                    log.warning("worker %s was presumed dead; registering again", me)
                    self._register(conn, now)
                leader = store.try_lease(conn, LEADER_LEASE, me, now, now + self._rescue_after)
                paused = store.paused_queues(conn)
        except Exception:
            self.is_leader, self.healthy_since = False, None
            raise
        self.paused = frozenset(paused)
        self.is_leader = leader
        if self.healthy_since is None:
            self.healthy_since = now

    def stage(self, everything: bool = False) -> list[JobEvent]:
        """Make due jobs available (``everything``: every scheduled one, for ``drain``)."""
        now = self._rt.clock.now()
        due_by = now + timedelta(days=365 * 100) if everything else None
        with self._rt.connect() as conn:
            events = self._rt.store.stage(conn, now, due_by=due_by)
        self._rt.emit(events)
        return list(events)

    def rescue(self) -> list[JobEvent]:
        """Take back the jobs of workers whose heartbeat stopped (leader only)."""
        store, now, me = self._rt.store, self._rt.clock.now(), self._worker_id
        window = self._rescue_after
        if self.healthy_since is None or now - self.healthy_since < window:
            return []
        stale_before = now - window
        with self._rt.connect() as conn:
            orphans = [j for j in store.orphaned(conn, stale_before) if j.attempted_by != me]
            events: list[JobEvent] = [rescued(job, now) for job in orphans]
            store.write_transitions(conn, events)
            dead = [x for x in store.stale_workers(conn, stale_before) if x != me]
            store.delete_workers(conn, dead)
        if events:
            log.warning("rescued %d jobs from dead workers", len(events))
        self._rt.emit(events)
        return events
