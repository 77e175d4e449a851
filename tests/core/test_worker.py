"""Worker behaviour on both dialects: results, events, progress, priorities, concurrency."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from taskward.core import JobState, Taskward, current_attempt
from taskward.core.events import JobProgress
from taskward.core.testing import EventRecorder, drain
from tests.core.worker_support import wait_for_states, wait_until, with_worker

LIFECYCLE = ["taskward.job.inserted", "taskward.job.started", "taskward.job.completed"]


def test_async_and_sync_results_are_stored_and_readable(
    app: Taskward, recorder: EventRecorder
) -> None:
    @app.task
    async def add(a: int, b: int) -> dict[str, int]:
        return {"sum": a + b}

    @app.task
    def shout(word: str) -> str:
        return word.upper()

    first, second = add.enqueue(2, 3), shout.enqueue("hi")
    drain(app)

    assert app.result(first.id) == {"sum": 5}
    assert app.result(second.id) == "HI"
    for job in (first, second):
        done = app.get_job(job.id)
        assert done.state is JobState.COMPLETED
        assert done.attempt == 1 and done.errors == []
        assert done.finished_at is not None and done.attempted_by is not None
        assert recorder.names(job.id) == LIFECYCLE
        assert [e["name"] for e in app.job_events(job.id)] == LIFECYCLE


def test_a_result_that_is_not_json_fails_the_attempt(app: Taskward) -> None:
    @app.task(max_attempts=1)
    def bad() -> object:
        return {1, 2}

    job = bad.enqueue()
    drain(app)
    done = app.get_job(job.id)
    assert done.state is JobState.DISCARDED
    assert done.errors[0]["type"] == "taskward.core.errors.InvalidJobError"
    assert "result: not JSON-serialisable" in done.errors[0]["message"]


def test_values_the_database_cannot_store_fail_only_their_own_job(app: Taskward) -> None:
    """A NUL character is valid JSON but PostgreSQL refuses it: it must not jam settling."""

    @app.task(max_attempts=1)
    def nul_result() -> str:
        return "a\x00b"

    @app.task(max_attempts=1)
    def nul_error() -> None:
        raise ValueError("bad byte \x00 and \udc80 here")

    @app.task(max_attempts=1)
    def nul_progress() -> str:
        current_attempt().set_progress(note="\x00")
        return "unreachable"

    @app.task
    def fine() -> int:
        return 1

    jobs = [nul_result.enqueue(), nul_error.enqueue(), nul_progress.enqueue(), fine.enqueue()]
    drain(app)
    result, error, progress, ok = (app.get_job(j.id) for j in jobs)
    assert ok.state is JobState.COMPLETED and ok.result == 1
    assert result.state is JobState.DISCARDED
    assert "result: contains a NUL character" in result.errors[0]["message"]
    assert error.errors[0]["message"] == "bad byte \\x00 and \\udc80 here"
    assert "progress: contains a NUL character" in progress.errors[0]["message"]


def test_progress_is_persisted_and_emitted(app: Taskward, recorder: EventRecorder) -> None:
    release = threading.Event()

    @app.task
    def slow_sync() -> str:
        current_attempt().set_progress(done=1, of=2)
        release.wait(5)
        current_attempt().set_progress(done=2, of=2)
        return "ok"

    @app.task
    async def quick_async() -> None:
        current_attempt().set_progress(stage="half")

    sync_job, async_job = slow_sync.enqueue(), quick_async.enqueue()

    async def body(_worker: Any) -> None:
        await wait_until(
            lambda: app.get_job(sync_job.id).progress == {"done": 1, "of": 2},
            what="the first progress report",
        )
        release.set()
        await wait_for_states(app, [sync_job.id, async_job.id], [JobState.COMPLETED])

    with_worker(app, body)
    assert app.get_job(sync_job.id).progress == {"done": 2, "of": 2}
    assert app.get_job(async_job.id).progress == {"stage": "half"}
    progress = [e for e in recorder.of(JobProgress) if e.job.id == sync_job.id]
    assert [e.progress for e in progress] == [{"done": 1, "of": 2}, {"done": 2, "of": 2}]
    names = recorder.names(sync_job.id)
    assert names.index("taskward.job.progress") < names.index("taskward.job.completed")
    assert names[-1] == "taskward.job.completed"
    outbox = [e["name"] for e in app.job_events(sync_job.id)]
    assert outbox.count("taskward.job.progress") == 2
    # Progress reported just before returning is settled in the same batch, yet comes first.
    expected = [*LIFECYCLE[:2], "taskward.job.progress", LIFECYCLE[2]]
    assert [e["name"] for e in app.job_events(async_job.id)] == expected
    assert recorder.names(async_job.id) == expected


def test_priorities_are_honoured(app: Taskward) -> None:
    order: list[int] = []

    @app.task
    def record(n: int) -> None:
        order.append(n)

    for priority in (5, 9, 0, 3, 0, 7):
        record.options(priority=priority).enqueue(priority)
    drain(app, {"default": 1})
    assert order == [0, 0, 3, 5, 7, 9]


def test_per_queue_concurrency_is_never_exceeded(app: Taskward) -> None:
    lock = threading.Lock()
    running = {"fast": 0, "slow": 0}
    peak = {"fast": 0, "slow": 0}

    def enter(queue: str) -> None:
        with lock:
            running[queue] += 1
            peak[queue] = max(peak[queue], running[queue])

    def leave(queue: str) -> None:
        with lock:
            running[queue] -= 1

    @app.task(queue="fast")
    async def on_loop() -> None:
        enter("fast")
        await asyncio.sleep(0.01)
        leave("fast")

    @app.task(queue="slow")
    def in_thread() -> None:
        enter("slow")
        threading.Event().wait(0.01)
        leave("slow")

    jobs = on_loop.enqueue_many([() for _ in range(30)]) + in_thread.enqueue_many(
        [() for _ in range(12)]
    )

    async def body(_worker: Any) -> None:
        await wait_for_states(app, [j.id for j in jobs], [JobState.COMPLETED], within=20)

    with_worker(app, body, {"fast": 3, "slow": 2}, claim_batch=50)
    assert peak == {"fast": 3, "slow": 2}


def test_unknown_task_is_failed_clearly_and_the_worker_carries_on(database_url: str) -> None:
    producer = Taskward(database_url, allow_unregistered=True)
    app = Taskward(database_url)
    try:

        @app.task
        def known() -> str:
            return "fine"

        stray = producer.enqueue("billing.nowhere", [1], max_attempts=1)
        good = known.enqueue()
        drain(app)
        failed = app.get_job(stray.id)
        assert failed.state is JobState.DISCARDED
        (error,) = failed.errors
        assert error["type"] == "taskward.UnknownTask"
        assert "billing.nowhere" in error["message"] and known.name in error["message"]
        assert app.get_job(good.id).state is JobState.COMPLETED
    finally:
        producer.close()
        app.close()


def test_unknown_task_with_attempts_left_is_retried_later(database_url: str) -> None:
    producer = Taskward(database_url, allow_unregistered=True)
    app = Taskward(database_url)
    try:
        stray = producer.enqueue("gone.task", max_attempts=3)
        drain(app, ["default"])
        job = app.get_job(stray.id)
        assert job.state is JobState.RETRYABLE
        assert job.errors[0]["type"] == "taskward.UnknownTask"
        assert job.scheduled_at is not None and job.scheduled_at > job.attempted_at  # type: ignore[operator]
    finally:
        producer.close()
        app.close()
