"""Observers never break a job: their failures are counted and logged, rate-limited."""

from __future__ import annotations

import logging
import time

log = logging.getLogger("taskward.core.instrumentation")


class Guard:
    """Counts an observer's failures and logs the first one every ``every`` seconds."""

    def __init__(self, what: str, every: float = 30.0) -> None:
        self.what = what
        self.every = every
        self.failures = 0
        self._last_logged = -every

    def failed(self) -> None:
        """Call from an ``except`` block: counts, and logs with the traceback now and then."""
        self.failures += 1
        now = time.monotonic()
        if now - self._last_logged >= self.every:
            self._last_logged = now
            log.exception(
                "%s failed (%d failures so far); the job goes on", self.what, self.failures
            )
