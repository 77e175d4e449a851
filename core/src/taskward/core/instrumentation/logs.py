"""The log-capture middleware: a buffer per attempt, persisted when the attempt ends."""

from __future__ import annotations

from typing import TYPE_CHECKING

from taskward.core.attempt import AttemptContext
from taskward.core.instrumentation.config import LogsConfig
from taskward.core.instrumentation.guard import Guard
from taskward.core.instrumentation.logcapture import AttemptLog, current_log, install, uninstall
from taskward.core.instrumentation.logstore import CountRecords, LogWriter
from taskward.core.outcomes import Outcome
from taskward.core.worker.executor import CallNext

if TYPE_CHECKING:
    from taskward.core.app import Taskward


class LogCapture:
    """Captures each attempt's records and hands them to the writer in a ``finally``."""

    def __init__(self, app: Taskward, config: LogsConfig, count: CountRecords) -> None:
        self.app = app
        self.config = config
        self._count = count
        self._guard = Guard("capturing execution logs")
        self.writer = LogWriter(app, count, config.max_pending_rows)
        install(config.min_level)

    async def middleware(self, ctx: AttemptContext, call_next: CallNext) -> Outcome:
        """Middleware: everything logged in the attempt's context lands in its buffer."""
        try:
            buffer = AttemptLog(ctx, self.config, self._count_late)
            token = current_log.set(buffer)
        except Exception:
            self._guard.failed()
            return await call_next()
        outcome: Outcome | None = None
        try:
            outcome = await call_next()
            return outcome
        finally:
            current_log.reset(token)
            self._persist(buffer, outcome)

    def _persist(self, buffer: AttemptLog, outcome: Outcome | None) -> None:
        try:
            rows = buffer.close(outcome, self.app.clock.now)
            if rows:
                self._count(buffer.queue, "dropped", buffer.dropped)
                self.writer.submit(buffer.queue, rows)
        except Exception:
            self._guard.failed()

    def _count_late(self, queue: str, count: int) -> None:
        self._count(queue, "dropped", count)

    def flush(self, timeout: float = 10.0) -> bool:
        return self.writer.flush(timeout)

    def close(self) -> None:
        self.writer.close()
        uninstall()
