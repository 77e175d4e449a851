"""Settling attempts in batches: one transaction for everything that finished meanwhile.

While one batch is being written, new outcomes pile up and go in the next one,
so the batch size follows the load with no timer. A failed write (database
down) keeps the batch and tries again with backoff: outcomes are never dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from taskward.core import schema
from taskward.core.clock import Clock
from taskward.core.events import JobEvent, JobProgress
from taskward.core.job import Job
from taskward.core.outcomes import Outcome
from taskward.core.store import SqlStore
from taskward.core.worker.transitions import after_attempt, released

log = logging.getLogger("taskward.core.worker")

JOBS = schema.jobs
RunInDb = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Settlement:
    """An attempt to persist: its outcome, or ``None`` to hand the job back."""

    job: Job
    outcome: Outcome | None


class Completer:
    def __init__(
        self,
        *,
        connect: Callable[[], Any],
        store: SqlStore,
        clock: Clock,
        worker_id: str,
        run_in_db: RunInDb,
        emit: Callable[[Sequence[JobEvent]], None],
    ) -> None:
        self._connect = connect
        self._store = store
        self._clock = clock
        self._worker_id = worker_id
        self._db = run_in_db
        self._emit = emit
        self._pending: list[Settlement] = []
        self._writing: list[Settlement] = []
        self._progress: dict[Any, tuple[Job, dict[str, Any]]] = {}
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._last_error: str | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="taskward-completer")

    def settle(self, job: Job, outcome: Outcome | None) -> None:
        self._pending.append(Settlement(job, outcome))
        self._idle.clear()
        self._wake.set()

    def unsettled(self) -> set[Any]:
        """Ids of the jobs handed in and not yet written (their rows still say executing)."""
        return {s.job.id for s in self._pending} | {s.job.id for s in self._writing}

    def progress(self, job: Job, progress: dict[str, Any]) -> None:
        self._progress[job.id] = (job, progress)
        self._idle.clear()
        self._wake.set()

    async def flush(self) -> None:
        """Wait until everything handed in so far is written."""
        while self._pending or self._progress or not self._idle.is_set():
            self._wake.set()
            await self._idle.wait()

    async def close(self, within: float | None = None) -> None:
        """Write everything handed in, then stop.

        Past ``within`` seconds (the database unreachable) give up rather than hang
        the shutdown: the unwritten jobs stay executing under this worker in the
        database, and the rescuer hands them back once its heartbeat has stopped.
        """
        try:
            await asyncio.wait_for(self.flush(), within)
        except TimeoutError:
            unwritten = self.unsettled() | set(self._progress)
            log.error(
                "could not settle %d jobs within %.0fs (%s); they will be rescued and run "
                "again once this worker's heartbeat has stopped",
                len(unwritten),
                within,
                self._last_error or "no reply",
            )
            if self._task is not None:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)
            return
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        delay = 0.1
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._pending and not self._progress:
                self._idle.set()
                if self._closing:
                    return
                continue
            batch, self._pending = self._pending, []
            progress, self._progress = self._progress, {}
            self._writing = batch
            try:
                events = await self._db(self._write, batch, list(progress.values()))
            except Exception as exc:
                self._last_error = _short(exc)
                log.warning(
                    "could not settle %d jobs (%s); retrying in %.1fs",
                    len(batch),
                    self._last_error,
                    delay,
                )
                self._pending[:0] = batch
                self._writing = []
                for key, value in progress.items():
                    self._progress.setdefault(key, value)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                self._wake.set()
                continue
            delay = 0.1
            self._writing = []
            self._emit(events)
            self._wake.set()

    def _write(
        self, batch: list[Settlement], progress: list[tuple[Job, dict[str, Any]]]
    ) -> list[JobEvent]:
        now = self._clock.now()
        with self._connect() as conn:
            ids = [s.job.id for s in batch] + [job.id for job, _ in progress]
            owned = self._store.lock_owned(conn, ids, self._worker_id)
            events: list[JobEvent] = [
                after_attempt(s.job, s.outcome, now)
                if s.outcome is not None
                else released(s.job, self._worker_id, now)
                for s in batch
                if owned.get(s.job.id) == s.job.attempt
            ]
            lost = len(batch) - len(events)
            if lost:
                log.warning("%d jobs were rescued by another worker before they settled", lost)
            # Progress first: its events must come before the attempt's end in the outbox.
            reported = self._write_progress(conn, progress, owned, now)
            self._store.write_transitions(conn, events)
        return [*reported, *events]

    def _write_progress(
        self,
        conn: sa.Connection,
        progress: list[tuple[Job, dict[str, Any]]],
        owned: dict[Any, int],
        now: Any,
    ) -> list[JobEvent]:
        rows = [(job, p) for job, p in progress if owned.get(job.id) == job.attempt]
        if not rows:
            return []
        stmt = (
            JOBS.update()
            .where(JOBS.c.id == sa.bindparam("b_id"))
            .values(progress=sa.bindparam("p"))
        )
        conn.execute(stmt, [{"b_id": job.id, "p": p} for job, p in rows])
        events: list[JobEvent] = [
            JobProgress(at=now, job=job.evolve(progress=p), progress=p) for job, p in rows
        ]
        self._store.write_events(conn, events)
        return events


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
