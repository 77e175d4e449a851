"""Lifecycle events as structured log lines: one JSON object per line.

Keys follow OBSERVABILITY.md (c): ``timestamp``, ``severity_text``,
``event_name``, ``taskward.job.id``, ``taskward.queue``, ``taskward.task.name``,
``taskward.job.attempt``, ``taskward.job.state``, ``taskward.job.outcome`` and
the event's own payload (duration, next attempt time, ``exception.*``...).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Any, TextIO

from taskward.core import Job, Taskward
from taskward.core.bus import Subscription
from taskward.core.events import (
    Event,
    JobEvent,
    QueuePaused,
    QueueResumed,
    WorkerStarted,
    WorkerStopped,
)
from taskward.ops.serialize import dumps

#: What a person watching a worker wants to see (not per-poll or maintenance chatter).
LIFECYCLE: tuple[type[Event], ...] = (
    JobEvent,
    WorkerStarted,
    WorkerStopped,
    QueuePaused,
    QueueResumed,
)
OUTCOMES = {
    "taskward.job.completed": "completed",
    "taskward.job.failed": "retryable",
    "taskward.job.retry_scheduled": "retryable",
    "taskward.job.snoozed": "snoozed",
    "taskward.job.discarded": "discarded",
    "taskward.job.cancelled": "cancelled",
}
SEVERITY = {"taskward.job.failed": logging.WARNING, "taskward.job.discarded": logging.ERROR}
PAYLOAD_KEYS = {
    "duration": "taskward.job.duration_seconds",
    "queue_wait": "taskward.job.queue_wait_seconds",
    "next_at": "taskward.job.next_attempt_at",
    "reason": "taskward.job.reason",
    "progress": "taskward.job.progress",
    "from_worker": "taskward.job.from_worker",
    "limit": "taskward.job.rate_limit",
    "worker_id": "taskward.worker.id",
    "queues": "taskward.worker.queues",
    "queue": "taskward.queue",
}


def event_record(event: Event) -> dict[str, Any]:
    """The log record of one lifecycle event."""
    level = SEVERITY.get(event.name, logging.INFO)
    record: dict[str, Any] = {
        "timestamp": event.at.isoformat(),
        "severity_text": logging.getLevelName(level),
        "severity_number": _OTEL_SEVERITY[level],
        "logger": "taskward.events",
        "event_name": event.name,
    }
    if isinstance(event, JobEvent):
        job = event.job
        record |= {
            "taskward.job.id": str(job.id),
            "taskward.queue": job.queue,
            "taskward.task.name": job.task,
            "taskward.job.attempt": job.attempt,
            "taskward.job.max_attempts": job.max_attempts,
            "taskward.job.state": job.state.value,
        }
        if event.name in OUTCOMES:
            record["taskward.job.outcome"] = OUTCOMES[event.name]
        payload = event.payload()
    else:
        payload = {
            f.name: _plain(getattr(event, f.name))
            for f in dataclasses.fields(event)
            if f.name != "at"
        }
    for key, value in payload.items():
        if key == "error" and isinstance(value, dict):
            record["exception.type"] = value["type"]
            record["exception.message"] = value["message"]
        elif key == "error" and value:
            record["exception.message"] = str(value)
        elif value is not None:
            record[PAYLOAD_KEYS.get(key, f"taskward.{key}")] = value
    record["message"] = _message(record)
    return record


def _plain(value: Any) -> Any:
    """A field of any event as JSON: jobs by id, anything unknown as text."""
    if isinstance(value, Job):
        return str(value.id)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _message(record: dict[str, Any]) -> str:
    what = record["event_name"].rsplit(".", 1)[-1].replace("_", " ")
    if "taskward.job.id" not in record:
        return str(record["event_name"])
    text = f"{record['taskward.task.name']} {record['taskward.job.id']} {what}"
    if "exception.type" in record:
        text += f": {record['exception.type']}: {record['exception.message']}"
    return text


_OTEL_SEVERITY = {logging.INFO: 9, logging.WARNING: 13, logging.ERROR: 17}


class JsonLines:
    """A bus subscriber that writes every event as one JSON line to ``stream``."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        line = dumps(event_record(event))
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()

    def attach(self, app: Taskward) -> Subscription:
        return app.bus.subscribe(self, name="json-event-log", kinds=LIFECYCLE)
