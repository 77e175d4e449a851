"""A worker's concurrency following its queue's backlog, with cool-downs (clock moved by hand)."""

from __future__ import annotations

import threading

import pytest

from taskward.core import FakeClock, Taskward, Worker
from taskward.core.errors import InvalidLimitError
from taskward.core.limits.autoscale import Autoscale, Backlog
from tests.core.worker_support import wait_until, with_worker

POLICY = Autoscale(min=1, max=8, grow_after=5, grow_cooldown=10, shrink_cooldown=60)
WAITING = Backlog(depth=40, oldest_age=30)
IDLE = Backlog()


@pytest.mark.parametrize(
    ("current", "backlog", "running", "since", "expected"),
    [
        (1, WAITING, 1, None, 2),  # jobs wait: double
        (4, WAITING, 4, 10.0, 8),
        (8, WAITING, 8, 100.0, 8),  # at max
        (2, WAITING, 2, 9.0, 2),  # still cooling down
        (2, Backlog(depth=3, oldest_age=1), 2, None, 2),  # not waiting long enough
        (8, IDLE, 3, 60.0, 4),  # idle, half the slots free: halve
        (8, IDLE, 3, 59.0, 8),  # shrinking waits longer
        (8, IDLE, 5, 600.0, 8),  # most slots busy: keep
        (1, IDLE, 0, 600.0, 1),  # at min
    ],
)
def test_the_decision(
    current: int, backlog: Backlog, running: int, since: float | None, expected: int
) -> None:
    assert POLICY.decide(current, backlog, running, since) == expected


def test_bad_ranges_are_refused() -> None:
    with pytest.raises(InvalidLimitError, match="below min"):
        Autoscale(min=4, max=2)
    with pytest.raises(InvalidLimitError, match="positive integer"):
        Autoscale(min=0, max=2)


def test_a_worker_grows_under_backlog_and_shrinks_when_idle(
    clocked_app: Taskward, clock: FakeClock
) -> None:
    app = clocked_app
    release = threading.Event()
    running, most = 0, 0
    lock = threading.Lock()

    @app.task(name="slow")
    def slow() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        release.wait(10)
        with lock:
            running -= 1

    slow.enqueue_many([() for _ in range(30)])
    policy = Autoscale(
        min=1, max=4, grow_after=5, grow_cooldown=10, shrink_cooldown=60, interval=0.02
    )

    async def body(worker: Worker) -> None:
        runner = worker.runners["default"]
        await wait_until(lambda: runner.running == 1, what="one job at the minimum")
        for limit in (2, 4):
            clock.advance(10)  # the oldest job waited long enough, and the cool-down passed
            await wait_until(lambda: runner.limit == limit, what=f"concurrency {limit}")  # noqa: B023
            # Counted by the handlers themselves: threads that really run at once.
            await wait_until(lambda: running == limit, what=f"{limit} running")  # noqa: B023
        clock.advance(10)
        assert runner.limit == 4  # the maximum
        release.set()
        await wait_until(lambda: runner.running == 0, what="the queue to drain")
        assert runner.limit == 4  # idle, but shrinking waits out its longer cool-down
        clock.advance(60)
        await wait_until(lambda: runner.limit == 2, what="shrinking")

    with_worker(app, body, {"default": 1}, autoscale={"default": policy})
    assert most == 4
