"""Turning log records and attempt outcomes into ``taskward_job_logs`` rows.

A row holds what varies per record (time, severity, logger, message, extras,
exception, the span current when it was logged); the attempt's constants (job,
queue, task, worker) are the row's key or are read from the job when a row is
rendered as a JSON line.
"""

from __future__ import annotations

import json
import logging
import traceback
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

from taskward.core.outcomes import Outcome
from taskward.core.worker.executor import error_type

Row = dict[str, Any]

_RESERVED = frozenset(
    set(vars(logging.LogRecord("", 0, "", 0, "", (), None)))
    | {"message", "asctime", "taskName", "taskward", "taskward_seq"}
)
_EVENT_NAMES = {
    "completed": "taskward.job.completed",
    "discarded": "taskward.job.discarded",
    "cancelled": "taskward.job.cancelled",
    "snoozed": "taskward.job.snoozed",
}
_OUTCOME_LEVELS = {
    "completed": logging.INFO,
    "snoozed": logging.INFO,
    "retryable": logging.WARNING,
    "cancelled": logging.WARNING,
    "discarded": logging.ERROR,
}


def severity_number(levelno: int) -> int:
    """OpenTelemetry's severity number for a stdlib level (DEBUG 5 … CRITICAL 21)."""
    if levelno <= logging.NOTSET:
        return 0
    if levelno < logging.DEBUG:
        return 1
    return min(21, 5 + 4 * ((levelno - logging.DEBUG) // 10))


def cap_text(text: str, max_bytes: int) -> str:
    """``text`` cut to ``max_bytes`` of UTF-8 (never splitting a character), NUL-free
    (PostgreSQL's text cannot hold NUL)."""
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    if len(text) * 4 <= max_bytes:
        return text
    encoded = text.encode("utf-8", "replace")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", "ignore") + "…[truncated]"


def jsonable(value: Any) -> Any:
    """``value`` if JSON can hold it as is, else its ``repr`` (extras are arbitrary objects)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def current_span_ids() -> tuple[str | None, str | None, str | None]:
    """(trace_id, span_id, trace_flags) of the span current where the record was made."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None, None, None
    return (
        format(context.trace_id, "032x"),
        format(context.span_id, "016x"),
        format(context.trace_flags, "02x"),
    )


def record_row(record: logging.LogRecord, seq: int, max_bytes: int) -> Row:
    """One captured record as a row (its message formatted now: args may change later)."""
    trace_id, span_id, flags = current_span_ids()
    attributes = {k: jsonable(v) for k, v in vars(record).items() if k not in _RESERVED}
    attributes["thread.name"] = record.threadName
    if flags is not None:
        attributes["trace_flags"] = flags
    exception = None
    if record.exc_info and record.exc_info[1] is not None:
        exception = cap_text("".join(traceback.format_exception(*record.exc_info)), max_bytes)
        attributes["exception.type"] = error_type(record.exc_info[1])
        attributes["exception.message"] = cap_text(str(record.exc_info[1]), max_bytes)
    return {
        "seq": seq,
        "ts": datetime.fromtimestamp(record.created, UTC),
        "severity_number": severity_number(record.levelno),
        "severity_text": record.levelname[:16],
        "logger": record.name[:255],
        "message": cap_text(record.getMessage(), max_bytes),
        "attributes": attributes,
        "exception": exception,
        "trace_id": trace_id,
        "span_id": span_id,
    }


def dropped_row(seq: int, dropped: int, cap: int, now: datetime) -> Row:
    """The one record that stands for everything past the per-attempt cap."""
    return _own_row(
        seq,
        now,
        logging.WARNING,
        f"{dropped} more log records were dropped: the cap is {cap} per attempt",
        {"taskward.log.dropped": dropped},
    )


def outcome_row(seq: int, outcome: Outcome, now: datetime, args: str | None) -> Row:
    """The attempt's lifecycle record: outcome, duration, next attempt, the exception once."""
    kind = outcome.kind
    if kind == "retryable":
        name = "taskward.job.failed" if outcome.error else "taskward.job.retry_scheduled"
    else:
        name = _EVENT_NAMES.get(kind, f"taskward.job.{kind}")
    attributes: dict[str, Any] = {
        "event_name": name,
        "taskward.job.outcome": kind,
        "taskward.job.duration_seconds": round(outcome.duration, 6),
    }
    if outcome.next_at is not None:
        attributes["taskward.job.next_attempt_at"] = outcome.next_at.isoformat()
    if args is not None:
        attributes["taskward.job.args"] = args
    message = f"attempt {kind} in {outcome.duration:.3f}s"
    exception = None
    if outcome.error is not None:
        error = outcome.error
        attributes["exception.type"] = error.type
        attributes["exception.message"] = error.message
        exception = error.traceback or None
        message = f"attempt failed: {error.type}: {error.message}"
    elif outcome.reason:
        message = f"{message}: {outcome.reason}"
    row = _own_row(seq, now, _OUTCOME_LEVELS.get(kind, logging.INFO), message, attributes)
    row["exception"] = exception
    if outcome.span is not None:
        row["trace_id"], row["span_id"] = outcome.span.trace_id, outcome.span.span_id
    return row


def _own_row(seq: int, now: datetime, level: int, message: str, attributes: dict[str, Any]) -> Row:
    trace_id, span_id, _ = current_span_ids()
    return {
        "seq": seq,
        "ts": now,
        "severity_number": severity_number(level),
        "severity_text": logging.getLevelName(level),
        "logger": "taskward.job",
        "message": message,
        "attributes": attributes,
        "exception": None,
        "trace_id": trace_id,
        "span_id": span_id,
    }
