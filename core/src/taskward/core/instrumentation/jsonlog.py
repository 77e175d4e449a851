"""JSON lines with the keys of OBSERVABILITY.md (c), for live records and stored ones.

Inside an attempt every line carries the job id, attempt, queue, task, worker
id, sequence number and the current trace and span ids (top level, per OTel's
rule for non-OTLP logs), and the job's own trace id (``taskward.job.trace_id``,
its enqueue's trace: another trace when attempts are linked, not children), so
a line is found from either; outside an attempt, those keys are simply absent.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from datetime import UTC, datetime
from typing import Any

from taskward.core.instrumentation.logcapture import current_log
from taskward.core.instrumentation.logrows import record_row
from taskward.core.instrumentation.logstore import LogEntry

_HOST = socket.gethostname()


class JsonLineFormatter(logging.Formatter):
    """Formats each record as one JSON object (use it on any handler)."""

    def __init__(self, service_name: str = "taskward-worker", max_message_bytes: int = 8192):
        super().__init__()
        self.service_name = service_name
        self.max_message_bytes = max_message_bytes

    def format(self, record: logging.LogRecord) -> str:
        buffer = current_log.get()
        if buffer is not None:  # capture first, so the line has its sequence number
            buffer.add(record)
        fields: dict[str, Any] | None = record.__dict__.get("taskward")
        if fields is None and buffer is not None:
            fields = buffer.fields  # below the capture level: no sequence number
        row = record_row(record, record.__dict__.get("taskward_seq", 0), self.max_message_bytes)
        return json.dumps(self._line(row, fields), default=repr, ensure_ascii=False)

    def format_entry(self, entry: LogEntry, fields: dict[str, Any] | None = None) -> str:
        """A stored record as the same JSON line (``fields``: the attempt's, if known)."""
        base = {"taskward.job.id": str(entry.job_id), "taskward.job.attempt": entry.attempt}
        row = {
            "seq": entry.seq,
            "ts": entry.ts,
            "severity_number": entry.severity_number,
            "severity_text": entry.severity_text,
            "logger": entry.logger,
            "message": entry.message,
            "attributes": entry.attributes,
            "exception": entry.exception,
            "trace_id": entry.trace_id,
            "span_id": entry.span_id,
        }
        return json.dumps(self._line(row, {**base, **(fields or {})}), ensure_ascii=False)

    def _line(self, row: dict[str, Any], fields: dict[str, Any] | None) -> dict[str, Any]:
        attributes = dict(row["attributes"])
        attributes.pop("thread.name", None)
        flags = attributes.pop("trace_flags", None)
        ts: datetime = row["ts"]
        line: dict[str, Any] = {
            "timestamp": ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "severity_text": row["severity_text"],
            "severity_number": row["severity_number"],
            "logger": row["logger"],
            "message": row["message"],
        }
        if row["trace_id"] is not None:
            line.update(trace_id=row["trace_id"], span_id=row["span_id"], trace_flags=flags)
        line.update(
            {"service.name": self.service_name, "host.name": _HOST, "process.pid": os.getpid()}
        )
        if fields:
            line.update(fields)
            if row["seq"]:
                line["taskward.log.seq"] = row["seq"]
        line.update(attributes)
        if row["exception"]:
            line["exception.stacktrace"] = row["exception"]
        return line
