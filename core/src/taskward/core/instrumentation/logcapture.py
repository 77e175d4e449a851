"""Capturing what a handler logs during its attempt, from every thread of its context.

One handler sits first on the root logger, installed once per process (counted,
so many apps in one process share it). For each record it looks up the
attempt buffer in a context variable: set by the log middleware around the
attempt, copied by the executor into the sync handler's thread and by any
thread the handler starts with ``contextvars.copy_context()``. Records outside
an attempt pass straight through. Capturing never stops a record from reaching
the normal handlers.

What is captured is what the logging configuration lets through: configure
logging (e.g. ``logging.basicConfig``) before instrumenting. An unconfigured
root logger (no handlers) is lowered to ``min_level`` and this handler then
stands in for Python's last-resort handler, so console output is unchanged.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from taskward.core.attempt import AttemptContext
from taskward.core.instrumentation.config import LogsConfig
from taskward.core.instrumentation.logrows import (
    Row,
    cap_text,
    dropped_row,
    outcome_row,
    record_row,
)
from taskward.core.outcomes import Outcome

#: The job's own trace (its enqueue's), beside the attempt span's ``trace_id``/``span_id``.
JOB_TRACE_ID = "taskward.job.trace_id"
current_log: ContextVar[AttemptLog | None] = ContextVar("taskward_log_capture", default=None)
CountDropped = Callable[[str, int], None]


class AttemptLog:
    """The captured records of one attempt: capped, thread-safe, closed at attempt end."""

    def __init__(self, ctx: AttemptContext, config: LogsConfig, count_late: CountDropped) -> None:
        job = ctx.job
        self.job_id, self.attempt, self.queue = job.id, job.attempt, job.queue
        self.config = config
        self._ctx = ctx
        self._fields: dict[str, Any] | None = None
        self.dropped = 0
        self._rows: list[Row] = []
        self._closed = False
        self._count_late = count_late
        self._lock = threading.Lock()

    def add(self, record: logging.LogRecord) -> None:
        """Capture ``record`` once (a JSON formatter may have captured it already)."""
        if record.levelno < self.config.min_level or record.__dict__.get("taskward") is self.fields:
            return
        if self._closed:  # a lingering thread after its attempt ended
            self._count_late(self.queue, 1)
            return
        if len(self._rows) >= self.config.max_records:
            with self._lock:
                self.dropped += 1
            return
        row = record_row(record, 0, self.config.max_message_bytes)
        with self._lock:
            if self._closed or len(self._rows) >= self.config.max_records:
                self.dropped += 1
                return
            self._rows.append(row)
            row["seq"] = len(self._rows)
        record.__dict__["taskward"] = self.fields  # for JSON-line formatters after this one
        record.__dict__["taskward_seq"] = row["seq"]

    @property
    def fields(self) -> dict[str, Any]:
        """The attempt's constant JSON-line fields, one dict shared by every record."""
        if self._fields is None:
            job = self._ctx.job
            self._fields = {
                "taskward.worker.id": self._ctx.worker_id,
                "taskward.job.id": str(job.id),
                "taskward.job.attempt": job.attempt,
                "taskward.job.max_attempts": job.max_attempts,
                "taskward.queue": job.queue,
                "taskward.task.name": job.task,
            }
            if job.trace_id is not None:  # the enqueue's trace: the job found from either id
                self._fields[JOB_TRACE_ID] = job.trace_id
        return self._fields

    def close(self, outcome: Outcome | None, clock: Callable[[], datetime]) -> list[Row]:
        """Stop capturing; the rows to persist, with the dropped-count and outcome records.

        The outcome record is written for every attempt that did not complete, and for
        completed ones that logged anything (a silent success costs no write).
        """
        with self._lock:
            self._closed = True
            rows, self._rows = self._rows, []
        if not rows and (outcome is None or outcome.kind == "completed"):
            return rows
        now = clock()
        if self.dropped:
            rows.append(dropped_row(len(rows) + 1, self.dropped, self.config.max_records, now))
        if outcome is not None and (rows or outcome.kind != "completed"):
            rows.append(outcome_row(len(rows) + 1, outcome, now, self._args_text()))
        trace_id = self._ctx.job.trace_id
        for row in rows:
            row["job_id"], row["attempt"] = self.job_id, self.attempt
            if trace_id is not None:
                row["attributes"][JOB_TRACE_ID] = trace_id
        return rows

    def _args_text(self) -> str | None:
        if not self.config.include_args:
            return None
        job = self._ctx.job
        text = json.dumps({"args": job.args, "kwargs": job.kwargs}, default=repr)
        return cap_text(text, self.config.max_args_bytes)


class CaptureHandler(logging.Handler):
    """Hands records logged inside an attempt to that attempt's buffer."""

    def handle(self, record: logging.LogRecord) -> bool:
        buffer = current_log.get()
        if buffer is not None:
            try:
                buffer.add(record)
            except Exception:
                self.handleError(record)
        resort = logging.lastResort
        if resort is not None and record.levelno >= resort.level and self._alone(record):
            resort.handle(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        self.handle(record)

    def _alone(self, record: logging.LogRecord) -> bool:
        """True when no other handler will see ``record`` (Python's last-resort case)."""
        logger: logging.Logger | None = (
            logging.root if record.name == "root" else logging.getLogger(record.name)
        )
        while logger is not None:
            if any(h is not self for h in logger.handlers):
                return False
            if not logger.propagate:
                break
            logger = logger.parent
        return True


_lock = threading.Lock()
_users = 0
_handler: CaptureHandler | None = None
_lowered: tuple[int, int] | None = None  # (level we set, level before)


def install(min_level: int) -> None:
    """Put the capture handler first on the root logger (once per process)."""
    global _users, _handler, _lowered
    with _lock:
        _users += 1
        if _handler is not None:
            return
        root = logging.getLogger()
        if not root.handlers and root.level > min_level:
            _lowered = (min_level, root.level)
            root.setLevel(min_level)
        _handler = CaptureHandler()
        root.handlers.insert(0, _handler)


def uninstall() -> None:
    """Undo one :func:`install`; the last one removes the handler and restores the level."""
    global _users, _handler, _lowered
    with _lock:
        _users = max(0, _users - 1)
        if _users or _handler is None:
            return
        root = logging.getLogger()
        root.removeHandler(_handler)
        _handler = None
        if _lowered is not None and root.level == _lowered[0]:
            root.setLevel(_lowered[1])
        _lowered = None
