"""Claims in flight, so that a job claimed for this worker is never mistaken for a stranded one.

A claim's ``COMMIT`` can succeed on the server while its acknowledgement is lost
(the connection drops): the job is then executing in the database under this
worker's id, this worker never heard of it, and its heartbeat keeps the rescuer
away for good. The worker looks for such jobs now and then; this ledger tells it
how far back it may look without catching a claim that is still on its way.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from taskward.core.clock import Clock


class ClaimLedger:
    """The claims this worker has in flight and when each began (event loop only)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._open: dict[int, datetime] = {}
        self._keys = itertools.count()

    @contextmanager
    def claiming(self) -> Iterator[None]:
        """Around a claim, until its jobs are running (or the claim failed)."""
        key = next(self._keys)
        self._open[key] = self._clock.now()
        try:
            yield
        finally:
            del self._open[key]

    def received_before(self, at: datetime) -> datetime:
        """A time no later than ``at`` before which every claim's jobs have been received.

        A claim stamps its jobs no earlier than it began, so a job stamped before
        this time came from a claim that has already returned.
        """
        return min([at, *self._open.values()])
