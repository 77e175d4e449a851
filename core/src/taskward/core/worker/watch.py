"""A worker watching its own jobs: cancellations asked for elsewhere, and stranded claims.

A job is stranded when the database says this worker runs it but the worker never
received it: a claim whose commit succeeded while its reply was lost. This
worker's heartbeat would keep the rescuer off such a job for ever, so the worker
hands it back itself.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from taskward.core.job import Job
from taskward.core.ports import Offload, Runtime
from taskward.core.worker.claims import ClaimLedger
from taskward.core.worker.producer import Producer

log = logging.getLogger("taskward.core.worker")


class JobWatch:
    """The loops' steps that look at this worker's executing jobs in the database."""

    def __init__(
        self,
        runtime: Runtime,
        worker_id: str,
        producer: Producer,
        claims: ClaimLedger,
        offload: Offload,
    ) -> None:
        self._rt = runtime
        self.worker_id = worker_id
        self._producer = producer
        self._completer = producer.completer
        self._claims = claims
        self._offload = offload

    async def release_stranded(self, received_after: float) -> None:
        """Hand back jobs the database says this worker runs but it never received.

        Only jobs claimed ``received_after`` seconds ago or earlier (the check's interval),
        and before any claim still in flight, are looked at; running and not-yet-settled
        ones are this worker's own.
        """
        now = self._rt.clock.now()
        cutoff = self._claims.received_before(now - timedelta(seconds=received_after))
        executing = await self._offload(self._executing_here, cutoff)
        known = set(self._producer.attempts) | self._completer.unsettled()
        stranded = [job for job in executing if job.id not in known]
        if stranded:
            log.warning(
                "handing back %d jobs claimed for this worker that it never received",
                len(stranded),
            )
        for job in stranded:  # the completer's hand-back is fenced by worker and attempt
            self._completer.settle(job, None)

    def _executing_here(self, claimed_before: datetime) -> list[Job]:
        with self._rt.connect() as conn:
            return self._rt.store.executing_by(conn, self.worker_id, claimed_before)

    async def check_cancellations(self) -> None:
        """Stop running jobs whose cancel was requested (the fallback to NOTIFY)."""
        if self._producer.attempts:
            for job_id in await self._offload(self._cancel_requested):
                self._producer.cancel(job_id)

    def _cancel_requested(self) -> set[uuid.UUID]:
        with self._rt.connect() as conn:
            return self._rt.store.cancel_requested(conn, self.worker_id)
