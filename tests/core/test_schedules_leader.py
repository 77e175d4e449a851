"""Only the leader fires schedules, and a new leader takes over without firing twice."""

from __future__ import annotations

import asyncio

from taskward.core import FakeClock, Taskward, Worker, schema
from tests.core.schedule_support import at, fired
from tests.core.worker_support import fast, wait_until


def stamps(*minutes: int) -> list[str]:
    return [at(m).strftime("%Y-%m-%dT%H:%M:%SZ") for m in minutes]


def kill(worker: Worker) -> None:
    """Stop every loop of ``worker`` at once, as a crash would: no lease is released."""
    for task in worker._tasks:
        task.cancel()


async def scheduler_ticks(worker: Worker, count: int) -> None:
    """Wait until ``worker``'s scheduler loop has run ``count`` more times."""
    (loop,) = [lp for lp in worker.loops if lp.name == "schedule"]
    for _ in range(count):
        seen = loop.last_success
        await wait_until(lambda: loop.last_success != seen, what="a scheduler tick")  # noqa: B023


def test_the_new_leader_fires_the_next_slot_exactly_once(
    clocked_app: Taskward, clock: FakeClock
) -> None:
    app = clocked_app

    @app.task(name="tick")
    def tick() -> None: ...

    app.schedules.add("minutely", "* * * * *", tick, catch_up=1)
    clock.set(at(0, 30))

    async def main() -> None:
        # A lease outlives the clock's 30 s jumps, and lapses 45 s after a crash.
        first = app.worker(["default"], worker_id="first", **fast(rescue_after=45))
        second = app.worker(["default"], worker_id="second", **fast(rescue_after=45))
        await first.start()
        await wait_until(lambda: first.is_leader, what="the first worker to lead")
        await second.start()
        try:
            clock.set(at(1))
            await wait_until(lambda: sorted(fired(app)) == stamps(1), what="00:01 to fire")
            await scheduler_ticks(first, 3)
            assert not second.is_leader  # the follower never fires
            kill(first)
            # The leader died before its bookkeeping was durable: the row still points at 00:01.
            with app.connect() as conn:
                conn.execute(schema.schedules.update().values(next_fire_at=at(1)))
            clock.set(at(1, 50))  # the dead leader's lease runs out
            await wait_until(lambda: second.is_leader, what="the second worker to lead")
            clock.set(at(2))
            await wait_until(lambda: sorted(fired(app)) == stamps(1, 2), what="00:02 to fire")
            await scheduler_ticks(second, 3)
            assert sorted(fired(app)) == stamps(1, 2)
        finally:
            await second.shutdown()
            await first.shutdown()

    asyncio.run(main())
