"""The JSON line of a lifecycle event: the keys of OBSERVABILITY.md (c)."""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from taskward.core import Job, JobState
from taskward.core.events import Event, JobCompleted, JobFailed, WorkerStarted
from taskward.core.outcomes import ErrorRecord
from taskward.ops.eventlog import JsonLines, event_record

AT = datetime(2026, 1, 1, tzinfo=UTC)
JOB = Job(id=uuid.uuid4(), queue="mail", task="send", state=JobState.RETRYABLE, attempt=2)


def test_a_failed_attempt() -> None:
    error = ErrorRecord(attempt=2, at=AT, type="ConnectionError", message="down", traceback="")
    record = event_record(
        JobFailed(at=AT, job=JOB, duration=0.5, error=error, next_at=AT + timedelta(seconds=4))
    )
    assert record["event_name"] == "taskward.job.failed"
    assert (record["severity_text"], record["severity_number"]) == ("WARNING", 13)
    assert record["taskward.job.id"] == str(JOB.id)
    assert (record["taskward.queue"], record["taskward.task.name"]) == ("mail", "send")
    assert (record["taskward.job.attempt"], record["taskward.job.state"]) == (2, "retryable")
    assert record["taskward.job.outcome"] == "retryable"
    assert record["taskward.job.duration_seconds"] == 0.5
    assert record["taskward.job.next_attempt_at"] == "2026-01-01T00:00:04+00:00"
    assert (record["exception.type"], record["exception.message"]) == ("ConnectionError", "down")
    assert record["message"] == f"send {JOB.id} failed: ConnectionError: down"


def test_worker_events_and_one_line_per_event() -> None:
    stream = io.StringIO()
    log = JsonLines(stream)
    log(WorkerStarted(at=AT, worker_id="host:1:ab", queues={"mail": 2}))
    log(JobCompleted(at=AT, job=JOB.evolve(state=JobState.COMPLETED), duration=0.1))
    started, completed = (json.loads(line) for line in stream.getvalue().splitlines())
    assert started["taskward.worker.id"] == "host:1:ab"
    assert started["taskward.worker.queues"] == {"mail": 2}
    assert "taskward.job.id" not in started
    assert completed["taskward.job.outcome"] == "completed"
    assert completed["timestamp"] == "2026-01-01T00:00:00+00:00"


@dataclass(frozen=True, slots=True, kw_only=True)
class Swept(Event):
    name: ClassVar[str] = "test.swept"
    jobs: tuple[Job, ...] = ()
    error: str | None = None


def test_any_other_event_still_makes_a_json_line() -> None:
    record = event_record(Swept(at=AT, jobs=(JOB,), error="disk full"))
    assert record["taskward.jobs"] == [str(JOB.id)]
    assert record["exception.message"] == "disk full"
    json.dumps(record)
