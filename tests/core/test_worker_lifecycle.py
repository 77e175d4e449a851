"""Worker life on both dialects: graceful shutdown, rescue of dead workers' jobs, isolation
from broken subscribers, and refusing to start on a bad database."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from taskward.core import (
    DatabaseUnavailableError,
    FakeClock,
    JobState,
    SchemaOutOfDateError,
    Taskward,
    current_attempt,
)
from taskward.core.events import Event, JobReleased, WorkerStopped
from taskward.core.testing import EventRecorder, drain
from tests.core.worker_support import fast, gated_task, wait_for_states, wait_until, with_worker
from tests.services import PG_ADMIN_URL, free_port


def test_shutdown_finishes_jobs_within_grace_and_hands_back_the_rest(app: Taskward) -> None:
    recorder = EventRecorder(app)
    go, block = asyncio.Event(), threading.Event()

    @app.task
    async def quick(n: int) -> int:
        await go.wait()
        return n

    @app.task
    async def endless() -> None:
        await asyncio.sleep(3600)

    @app.task
    def stuck_thread() -> None:
        block.wait(30)

    finishing = quick.enqueue_many([(n,) for n in range(3)])
    unfinished = [endless.enqueue(), stuck_thread.enqueue()]
    everything = [j.id for j in finishing + unfinished]
    worker = app.worker(None, **fast())

    async def main() -> None:
        await worker.start()
        await wait_for_states(app, everything, [JobState.EXECUTING])
        stopping = asyncio.create_task(worker.shutdown(grace=0.5))
        await asyncio.sleep(0)
        go.set()
        await stopping

    try:
        asyncio.run(main())
    finally:
        block.set()
    for job in finishing:
        assert app.get_job(job.id).state is JobState.COMPLETED
    for job in unfinished:
        back = app.get_job(job.id)
        assert (back.state, back.attempt, back.attempted_by) == (JobState.AVAILABLE, 0, None)
        assert back.errors == []
        (released,) = [e for e in app.job_events(job.id) if e["name"] == JobReleased.name]
        assert released["data"] == {"from_worker": worker.id}
    assert {e.job.id for e in recorder.of(JobReleased)} == {j.id for j in unfinished}  # type: ignore[attr-defined]
    assert app.list_jobs(state="executing") == []
    recorder.close()


def test_a_draining_worker_keeps_heartbeating_so_its_jobs_are_not_rescued(app: Taskward) -> None:
    slow, go = gated_task(app)
    job = slow.enqueue()
    intervals: dict[str, Any] = {"heartbeat_interval": 0.05, "rescue_after": 0.3}
    leader = app.worker(["elsewhere"], **fast(**intervals))
    draining = app.worker(["default"], **fast(**intervals))

    async def main() -> None:
        await leader.start()
        await wait_until(lambda: leader.is_leader, what="the first worker to lead")
        await draining.start()
        await wait_for_states(app, [job.id], [JobState.EXECUTING])
        stopping = asyncio.create_task(draining.shutdown(grace=30))
        # Let the leader's rescuer look several rescue windows past the shutdown's start.
        rescue = next(loop for loop in leader.loops if loop.name == "rescue")
        mark = time.time() + 3 * intervals["rescue_after"]
        await wait_until(lambda: (rescue.last_success or 0) > mark, what="rescuer runs")
        go.set()
        await stopping
        await leader.shutdown()

    asyncio.run(main())
    done = app.get_job(job.id)
    assert (done.state, done.attempt, done.errors) == (JobState.COMPLETED, 1, [])
    assert "taskward.job.rescued" not in [e["name"] for e in app.job_events(job.id)]


def _ghost_claims(app: Taskward, heartbeat_at: Any, queue: str = "default") -> str:
    """Register a worker that will never heartbeat again and let it claim ``queue``'s jobs."""
    ghost = f"ghost:{uuid.uuid4().hex[:6]}"
    with app.connect() as conn:
        app.store.register_worker(conn, ghost, "gone-host", 1, {queue: 10}, heartbeat_at)
        app.store.claim(conn, queue, ghost, 10, app.clock.now())
    return ghost


def test_the_leader_rescues_the_jobs_of_a_dead_worker(
    clocked_app: Taskward, clock: FakeClock
) -> None:
    app = clocked_app

    @app.task(max_attempts=3)
    def resumable() -> int:
        return current_attempt().job.attempt

    @app.task(max_attempts=1)
    def one_shot() -> None: ...

    again, lost = resumable.enqueue(), one_shot.enqueue()
    ghost = _ghost_claims(app, clock.now())

    async def body(worker: Any) -> None:
        await wait_until(lambda: worker.is_leader, what="leadership")
        rescue = next(loop for loop in worker.loops if loop.name == "rescue")
        # The ghost's heartbeat is fresh: several rescue rounds leave its jobs alone.
        mark = time.time()
        await wait_until(lambda: (rescue.last_success or 0) > mark + 0.3, what="rescue rounds")
        assert {app.get_job(j.id).state for j in (again, lost)} == {JobState.EXECUTING}
        clock.advance(31)
        await wait_for_states(app, [again.id], [JobState.COMPLETED])
        await wait_for_states(app, [lost.id], [JobState.DISCARDED])

    with_worker(app, body, heartbeat_interval=0.05, rescue_after=30)
    done = app.get_job(again.id)
    assert (done.result, done.attempt) == (2, 2)
    (error,) = done.errors
    assert (error["type"], error["attempt"]) == ("taskward.WorkerLost", 1)
    assert ghost in error["message"]
    rescued = [e for e in app.job_events(again.id) if e["name"] == "taskward.job.rescued"]
    assert rescued[0]["data"] == {"from_worker": ghost}
    discarded = app.get_job(lost.id)
    assert discarded.errors[0]["type"] == "taskward.WorkerLost"
    assert discarded.finished_at is not None
    with app.connect() as conn:
        assert ghost not in [w["id"] for w in app.store.workers(conn)]


def test_a_rescuer_waits_one_window_after_starting_before_rescuing(
    clocked_app: Taskward, clock: FakeClock
) -> None:
    """After an outage (or at start) every heartbeat may look stale: give them time."""
    app = clocked_app

    @app.task
    def work() -> None: ...

    job = work.enqueue()
    _ghost_claims(app, clock.now() - timedelta(seconds=600))

    async def body(worker: Any) -> None:
        await wait_until(lambda: worker.is_leader, what="leadership")
        rescue = next(loop for loop in worker.loops if loop.name == "rescue")
        mark = time.time()
        await wait_until(lambda: (rescue.last_success or 0) > mark + 0.3, what="rescue rounds")
        assert app.get_job(job.id).state is JobState.EXECUTING
        clock.advance(30)
        await wait_for_states(app, [job.id], [JobState.COMPLETED])

    with_worker(app, body, heartbeat_interval=0.05, rescue_after=30)


def test_subscribers_that_raise_or_block_never_fail_or_stall_jobs(app: Taskward) -> None:
    unblock = threading.Event()

    def explode(event: Event) -> None:
        raise RuntimeError(f"subscriber bug on {event.name}")

    broken = app.bus.subscribe(explode, name="explodes")
    blocked = app.bus.subscribe(lambda _e: unblock.wait(), name="stuck", max_batches=2)

    @app.task
    async def work(n: int) -> int:
        return n * 2

    jobs = [work.enqueue(n) for n in range(20)]  # one batch of events each
    worker = app.worker(None, **fast())

    async def main() -> None:
        await worker.start()
        await wait_for_states(app, [j.id for j in jobs], [JobState.COMPLETED])
        await worker.shutdown()

    try:
        asyncio.run(main())
        assert [app.result(j.id) for j in jobs] == [n * 2 for n in range(20)]
        # inserted + started + completed per job, plus worker started/stopped.
        asyncio.run(wait_until(lambda: broken.stats.errors >= 62, what="errors counted"))
        assert broken.stats.delivered == 0
        assert blocked.stats.dropped > 0
    finally:
        unblock.set()


def test_closing_the_app_does_not_wait_for_a_stuck_subscriber() -> None:
    app, unblock = Taskward("sqlite:///:memory:"), threading.Event()
    stuck = app.bus.subscribe(lambda _e: unblock.wait(), name="stuck", max_batches=1)
    event = WorkerStopped(at=FakeClock().now(), worker_id="w1")
    for _ in range(3):  # the stuck handler takes at most one, one is queued: one is dropped
        app.bus.emit([event])
    closer = threading.Thread(target=app.close)
    closer.start()
    closer.join(10)
    try:
        assert not closer.is_alive()
        assert stuck.stats.dropped >= 1
    finally:
        unblock.set()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A reachable database that was never migrated."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/never-migrated.db"
        return
    admin: sa.Engine = request.getfixturevalue("pg_admin")
    name = f"taskward_empty_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_a_worker_refuses_an_out_of_date_schema(empty_database_url: str) -> None:
    app = Taskward(empty_database_url)
    try:
        with pytest.raises(SchemaOutOfDateError, match="taskward db upgrade") as info:
            asyncio.run(app.worker(None, **fast()).start())
        assert "revision none" in str(info.value)
        with pytest.raises(SchemaOutOfDateError):
            drain(app)
    finally:
        app.close()


@pytest.mark.parametrize(
    ("url", "names", "why"),
    [
        (
            "postgresql://postgres:s3cret@127.0.0.1:{port}/taskward",
            "postgres:***@127.0.0.1:{port}/taskward",
            "refused",
        ),
        (
            "postgresql://postgres:s3cret@127.0.0.1:5432/no_such_db_{port}",
            "postgres:***@127.0.0.1:5432/no_such_db_{port}",
            "does not exist",
        ),
        ("sqlite:////nonexistent-dir-{port}/jobs.db", "/nonexistent-dir-{port}/jobs.db", "open"),
    ],
)
def test_a_bad_database_url_fails_in_one_line_naming_the_masked_url(
    url: str, names: str, why: str
) -> None:
    port = free_port()
    app = Taskward(url.format(port=port))
    try:
        with pytest.raises(DatabaseUnavailableError) as info:
            asyncio.run(app.worker(None, **fast()).start())
        message = str(info.value)
        assert "\n" not in message
        assert names.format(port=port) in message
        assert why in message
        assert "s3cret" not in message
    finally:
        app.close()
