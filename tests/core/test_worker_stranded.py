"""Jobs claimed for a live worker that never received them (the claim's reply was lost).

The claim commits on the server, the connection drops before the reply: the job is
executing under the worker's id and the worker's heartbeat keeps the rescuer away.
The worker finds such jobs itself and hands them back, and never mistakes its own
running or not-yet-settled jobs for them.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from taskward.core import JobState, Taskward, current_attempt
from taskward.core.testing import drain
from tests.core.worker_support import wait_for_states, wait_until, with_worker


def _names(app: Taskward, job_id: Any) -> list[str]:
    return [e["name"].removeprefix("taskward.job.") for e in app.job_events(job_id)]


def test_a_claim_whose_reply_was_lost_is_handed_back_then_runs_once(app: Taskward) -> None:
    @app.task(queue="lost")
    def work() -> int:
        return current_attempt().job.attempt

    job = work.enqueue()

    async def body(worker: Any) -> None:
        with app.connect() as conn:  # what the worker's claim did before its reply was lost
            app.store.claim(conn, "lost", worker.id, 10, app.clock.now())
        assert app.get_job(job.id).state is JobState.EXECUTING
        await wait_for_states(app, [job.id], [JobState.AVAILABLE])

    # The worker serves another queue, so only the stranded-job check can touch the job.
    with_worker(app, body, ["default"], heartbeat_interval=0.05)
    back = app.get_job(job.id)
    assert (back.attempt, back.attempted_by) == (0, None)
    drain(app, ["lost"])
    done = app.get_job(job.id)
    assert (done.state, done.result) == (JobState.COMPLETED, 1)
    assert _names(app, job.id) == ["inserted", "started", "released", "started", "completed"]


def test_running_and_unsettled_jobs_are_never_taken_for_stranded(app: Taskward) -> None:
    go = asyncio.Event()

    @app.task
    async def slow() -> int:
        await go.wait()
        return current_attempt().job.attempt

    @app.task
    async def quick(n: int) -> int:
        return n

    long_running = slow.enqueue()
    many = quick.enqueue_many([(n,) for n in range(300)])

    async def body(worker: Any) -> None:
        check = next(loop for loop in worker.loops if loop.name == "stranded-check")
        await wait_for_states(app, [j.id for j in many], [JobState.COMPLETED], within=30)
        mark = time.time() + 0.2  # ten check intervals on
        await wait_until(lambda: (check.last_success or 0) > mark, what="stranded checks")
        go.set()
        await wait_for_states(app, [long_running.id], [JobState.COMPLETED])

    # Checks every 20 ms, each looking at jobs claimed more than 20 ms before.
    with_worker(app, body, heartbeat_interval=0.02, rescue_after=60)
    for job in [long_running, *many]:
        assert _names(app, job.id) == ["inserted", "started", "completed"]
    assert app.get_job(long_running.id).result == 1
