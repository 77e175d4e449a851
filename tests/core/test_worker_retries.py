"""Retries through a real worker: errors recorded, backoff honoured, filters, hooks, directives."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from taskward.core import (
    Cancel,
    Constant,
    FakeClock,
    Job,
    JobState,
    Retry,
    Snooze,
    Taskward,
)
from taskward.core.testing import EventRecorder, drain


class Flaky(Exception):
    pass


class Fatal(Exception):
    pass


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_a_failure_is_recorded_then_retried_after_the_backoff(
    clocked_app: Taskward, clock: FakeClock
) -> None:
    app, calls = clocked_app, []
    recorder = EventRecorder(app)

    @app.task(max_attempts=3, backoff=Constant(30))
    def charge(amount: int) -> str:
        calls.append(amount)
        if len(calls) == 1:
            raise Flaky(f"card declined for {amount}")
        return "paid"

    job = charge.enqueue(42)
    failed_at = clock.now()
    drain(app)

    failed = app.get_job(job.id)
    assert failed.state is JobState.RETRYABLE
    assert failed.scheduled_at == failed_at + timedelta(seconds=30)
    (error,) = failed.errors
    assert error["attempt"] == 1
    assert _at(error["at"]) == failed_at
    assert error["type"] == f"{__name__}.Flaky"
    assert error["message"] == "card declined for 42"
    assert "Traceback (most recent call last)" in error["traceback"]
    assert 'raise Flaky(f"card declined for {amount}")' in error["traceback"]

    clock.advance(29)
    drain(app)
    assert calls == [42] and app.get_job(job.id).state is JobState.RETRYABLE

    clock.advance(1)
    drain(app)
    done = app.get_job(job.id)
    assert (done.state, done.attempt, done.result, calls) == (
        JobState.COMPLETED,
        2,
        "paid",
        [42, 42],
    )
    assert len(done.errors) == 1
    assert recorder.names(job.id) == [
        "taskward.job.inserted",
        "taskward.job.started",
        "taskward.job.failed",
        "taskward.job.staged",
        "taskward.job.started",
        "taskward.job.completed",
    ]
    outbox = [e["name"] for e in app.job_events(job.id)]
    assert outbox == recorder.names(job.id)
    recorder.close()


def test_a_job_is_discarded_after_max_attempts(app: Taskward) -> None:
    @app.task(max_attempts=3, backoff=Constant(0))
    def always() -> None:
        raise Flaky("nope")

    job = always.enqueue()
    drain(app)
    done = app.get_job(job.id)
    assert (done.state, done.attempt) == (JobState.DISCARDED, 3)
    assert [e["attempt"] for e in done.errors] == [1, 2, 3]
    names = [e["name"] for e in app.job_events(job.id)]
    assert names.count("taskward.job.failed") == 2
    assert names[-1] == "taskward.job.discarded"


def test_never_retry_on_discards_at_once(app: Taskward) -> None:
    @app.task(max_attempts=5, never_retry_on=(Fatal,))
    def boom() -> None:
        raise Fatal("do not try again")

    job = boom.enqueue()
    drain(app)
    done = app.get_job(job.id)
    assert (done.state, done.attempt) == (JobState.DISCARDED, 1)
    assert done.errors[0]["type"] == f"{__name__}.Fatal"


def test_retry_on_retries_only_the_listed_errors(app: Taskward) -> None:
    @app.task(max_attempts=5, retry_on=(Flaky,), backoff=Constant(60))
    def picky(kind: str) -> None:
        raise Flaky(kind) if kind == "flaky" else Fatal(kind)

    flaky, fatal = picky.enqueue("flaky"), picky.enqueue("fatal")
    drain(app)
    assert app.get_job(flaky.id).state is JobState.RETRYABLE
    assert app.get_job(fatal.id).state is JobState.DISCARDED


def test_on_retry_hook_sees_the_job_and_the_error(app: Taskward) -> None:
    seen: list[tuple[int, str]] = []

    def hook(job: Job, exc: BaseException) -> None:
        seen.append((job.attempt, str(exc)))
        raise RuntimeError("a broken hook must not lose the job")

    @app.task(max_attempts=2, backoff=Constant(0), on_retry=hook)
    def fails() -> None:
        raise Flaky("again")

    job = fails.enqueue()
    drain(app)
    # Called for the retry, not for the final (discarding) failure.
    assert seen == [(1, "again")]
    assert app.get_job(job.id).state is JobState.DISCARDED


@pytest.mark.parametrize("how", ["return", "raise"])
def test_retry_directive_uses_its_delay_and_records_no_error(
    clocked_app: Taskward, clock: FakeClock, how: str
) -> None:
    app, calls = clocked_app, []

    @app.task(max_attempts=3)
    def poll() -> Any:
        calls.append(1)
        if len(calls) == 1:
            if how == "raise":
                raise Retry(in_=120, reason="not ready")
            return Retry(in_=120, reason="not ready")
        return "ready"

    job = poll.enqueue()
    drain(app)
    waiting = app.get_job(job.id)
    assert (waiting.state, waiting.attempt, waiting.errors) == (JobState.RETRYABLE, 1, [])
    assert waiting.scheduled_at == clock.now() + timedelta(seconds=120)
    (event,) = [e for e in app.job_events(job.id) if e["name"] == "taskward.job.retry_scheduled"]
    assert event["data"]["reason"] == "not ready"

    clock.advance(120)
    drain(app)
    assert app.get_job(job.id).result == "ready" and app.get_job(job.id).attempt == 2


def test_retry_directive_on_the_last_attempt_discards(app: Taskward) -> None:
    @app.task(max_attempts=1)
    def once() -> Retry:
        return Retry(in_=1)

    job = once.enqueue()
    drain(app)
    assert app.get_job(job.id).state is JobState.DISCARDED


@pytest.mark.parametrize("how", ["return", "raise"])
def test_snooze_reschedules_without_using_an_attempt(
    clocked_app: Taskward, clock: FakeClock, how: str
) -> None:
    app, calls = clocked_app, []

    @app.task(max_attempts=1)
    async def wait_for_file() -> Any:
        calls.append(1)
        if len(calls) < 3:
            if how == "raise":
                raise Snooze(10)
            return Snooze(10)
        return "found"

    job = wait_for_file.enqueue()
    for runs in (1, 2):
        drain(app)
        snoozed = app.get_job(job.id)
        assert (snoozed.state, snoozed.attempt) == (JobState.SCHEDULED, 0)
        assert snoozed.scheduled_at == clock.now() + timedelta(seconds=10)
        drain(app)  # not due yet: nothing runs
        assert len(calls) == runs
        clock.advance(10)
    drain(app)
    done = app.get_job(job.id)
    assert (done.state, done.attempt, done.result) == (JobState.COMPLETED, 1, "found")
    assert [e["name"] for e in app.job_events(job.id)].count("taskward.job.snoozed") == 2


@pytest.mark.parametrize("how", ["return", "raise"])
def test_cancel_directive_ends_the_job_cancelled(app: Taskward, how: str) -> None:
    @app.task(max_attempts=5)
    def refuse(order: int) -> Any:
        if how == "raise":
            raise Cancel(f"order {order} was withdrawn")
        return Cancel(f"order {order} was withdrawn")

    job = refuse.enqueue(7)
    drain(app)
    done = app.get_job(job.id)
    assert (done.state, done.attempt, done.errors) == (JobState.CANCELLED, 1, [])
    assert done.finished_at is not None
    (event,) = [e for e in app.job_events(job.id) if e["name"] == "taskward.job.cancelled"]
    assert event["data"]["reason"] == "order 7 was withdrawn"
