"""Per-job timeouts and cancellation of queued and running jobs, on both dialects."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from taskward.core import Constant, JobState, Taskward, current_attempt
from taskward.core.testing import drain
from tests.core.worker_support import wait_for_states, wait_until, with_worker

TIMEOUT_ERROR = "taskward.core.errors.JobTimeoutError"


@pytest.mark.parametrize(
    ("max_attempts", "end"), [(1, JobState.DISCARDED), (2, JobState.RETRYABLE)]
)
def test_async_handler_is_cancelled_at_its_timeout(
    app: Taskward, max_attempts: int, end: JobState
) -> None:
    stopped = []

    @app.task(timeout=0.1, max_attempts=max_attempts, backoff=Constant(3600))
    async def hang() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            stopped.append(current_attempt().cancelled)
            raise

    job = hang.enqueue()
    drain(app)
    done = app.get_job(job.id)
    assert done.state is end
    (error,) = done.errors
    assert error["type"] == TIMEOUT_ERROR
    assert "0.1s" in error["message"]
    assert stopped == [True]


def test_a_handler_that_swallows_its_cancellation_still_timed_out(app: Taskward) -> None:
    @app.task(timeout=0.05, max_attempts=1)
    async def stubborn() -> str:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            return "pretending nothing happened"
        return "never"

    job = stubborn.enqueue()
    drain(app)
    done = app.get_job(job.id)
    assert (done.state, done.result) == (JobState.DISCARDED, None)
    assert done.errors[0]["type"] == TIMEOUT_ERROR


def test_a_handlers_own_timeout_error_is_not_reported_as_a_job_timeout(app: Taskward) -> None:
    @app.task(timeout=30, max_attempts=1)
    async def call_api() -> None:
        raise TimeoutError("upstream took too long")

    @app.task(timeout=30, max_attempts=1)
    def call_api_sync() -> None:
        raise TimeoutError("upstream took too long")

    jobs = [call_api.enqueue(), call_api_sync.enqueue()]
    drain(app)
    for job in jobs:
        (error,) = app.get_job(job.id).errors
        assert (error["type"], error["message"]) == ("TimeoutError", "upstream took too long")


def test_sync_timeout_fails_the_attempt_but_the_thread_keeps_its_slot(app: Taskward) -> None:
    order: list[str] = []
    release = threading.Event()

    @app.task(timeout=0.1, max_attempts=1)
    def stubborn() -> None:
        order.append("stubborn started")
        release.wait(10)
        order.append(f"stubborn returned (cancelled={current_attempt().cancelled})")

    @app.task
    def next_in_line() -> None:
        order.append("next started")

    slow = stubborn.enqueue()
    queued = next_in_line.enqueue()

    async def body(worker: Any) -> None:
        (timed_out,) = await wait_for_states(app, [slow.id], [JobState.DISCARDED])
        assert timed_out.errors[0]["type"] == TIMEOUT_ERROR
        # The attempt is over, yet its thread still runs: the slot stays taken.
        for _ in range(10):
            await asyncio.sleep(0.03)
            assert worker.running == {"default": 1}
        assert app.get_job(queued.id).state is JobState.AVAILABLE
        release.set()
        await wait_for_states(app, [queued.id], [JobState.COMPLETED])

    with_worker(app, body, {"default": 1})
    assert order == ["stubborn started", "stubborn returned (cancelled=True)", "next started"]


def test_a_queued_job_cancelled_never_runs(app: Taskward) -> None:
    ran = []

    @app.task
    def work() -> None:
        ran.append(1)

    job = work.enqueue()
    later = work.options(in_=3600).enqueue()
    assert app.cancel(job.id, reason="not needed").state is JobState.CANCELLED
    assert app.cancel(later.id).state is JobState.CANCELLED
    drain(app, with_scheduled=True)
    assert ran == []
    cancelled = app.get_job(job.id)
    assert (cancelled.state, cancelled.attempt) == (JobState.CANCELLED, 0)
    (event,) = [e for e in app.job_events(job.id) if e["name"] == "taskward.job.cancelled"]
    assert event["data"]["reason"] == "not needed"


def _cancel_options(app: Taskward) -> dict[str, Any]:
    """PostgreSQL must deliver the cancel by NOTIFY: make the polling fallback useless."""
    if app.store.dialect == "postgresql":
        return {"cancel_check_interval": 3600}
    return {"cancel_check_interval": 0.05}


def test_a_running_async_job_is_cancelled(app: Taskward) -> None:
    started, stopped = asyncio.Event(), []

    @app.task(max_attempts=5)
    async def endless() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            stopped.append("cancelled")
            raise

    job = endless.enqueue()

    async def body(_worker: Any) -> None:
        await asyncio.wait_for(started.wait(), 10)
        await asyncio.to_thread(app.cancel, job.id, "operator said stop")
        await wait_for_states(app, [job.id], [JobState.CANCELLED])

    with_worker(app, body, **_cancel_options(app))
    done = app.get_job(job.id)
    assert (done.attempt, done.errors, stopped) == (1, [], ["cancelled"])
    (event,) = [e for e in app.job_events(job.id) if e["name"] == "taskward.job.cancelled"]
    assert event["data"]["reason"] == "cancelled while running"


@pytest.mark.parametrize("how", ["polls cancelled", "waits on cancel_requested"])
def test_a_running_sync_job_sees_the_cancel_and_ends_cancelled(app: Taskward, how: str) -> None:
    started = threading.Event()
    seen: list[bool] = []

    @app.task(max_attempts=5)
    def cooperative() -> str:
        ctx = current_attempt()
        started.set()
        if how == "waits on cancel_requested":
            assert ctx.cancel_requested.wait(30)
        for _ in range(1000):
            if ctx.cancelled:
                break
            threading.Event().wait(0.01)
        seen.append(ctx.cancelled)
        return "finished anyway"

    job = cooperative.enqueue()

    async def body(worker: Any) -> None:
        await asyncio.to_thread(started.wait, 10)
        await asyncio.to_thread(app.cancel, job.id)
        await wait_for_states(app, [job.id], [JobState.CANCELLED])
        await wait_until(lambda: seen == [True], what="the handler to see the cancel")
        await wait_until(lambda: worker.running == {"default": 0}, what="the slot to free")

    with_worker(app, body, **_cancel_options(app))
    done = app.get_job(job.id)
    assert (done.state, done.result) == (JobState.CANCELLED, None)


def test_cancelling_a_finished_job_changes_nothing(app: Taskward) -> None:
    @app.task
    def quick() -> int:
        return 1

    job = quick.enqueue()
    drain(app)
    assert app.cancel(job.id).state is JobState.COMPLETED
    assert app.get_job(job.id).state is JobState.COMPLETED
