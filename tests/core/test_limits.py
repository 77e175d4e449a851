"""Rate limits and concurrency caps at claim time, on both dialects, the clock moved by hand."""

from __future__ import annotations

from collections import Counter

import pytest

from taskward.core import FakeClock, JobState, Taskward, Worker
from taskward.core.errors import InvalidLimitError
from taskward.core.events import JobCompleted, JobRateLimited
from taskward.core.job import Job
from taskward.core.limits import Limit, Rate
from taskward.core.testing import EventRecorder
from tests.core.worker_support import wait_until, with_worker


def claim(app: Taskward, queue: str = "default", want: int = 100) -> list[Job]:
    with app.connect() as conn:
        return [e.job for e in app.store.claim(conn, queue, "w", want, app.clock.now())]


def complete(app: Taskward, job: Job) -> None:
    with app.connect() as conn:
        done = job.evolve(state=JobState.COMPLETED, finished_at=app.clock.now())
        app.store.write_transitions(conn, [JobCompleted(at=app.clock.now(), job=done)])


@pytest.fixture
def work(clocked_app: Taskward):  # type: ignore[no-untyped-def]
    @clocked_app.task(name="work")
    def work(customer: str = "", n: int = 0) -> None: ...

    return work


def test_a_token_bucket_lets_a_burst_through_then_the_rate(
    clocked_app: Taskward, clock: FakeClock, work
) -> None:
    app = clocked_app
    app.limits.add(Limit(queue="default", rate=Rate(5, per=1.0, burst=2)))
    work.enqueue_many([{"n": n} for n in range(20)])
    assert len(claim(app)) == 2  # the burst
    assert claim(app) == []  # empty bucket: the jobs wait, they do not fail
    clock.advance(0.2)  # one token at 5/s
    assert len(claim(app)) == 1
    clock.advance(60)  # refills only up to the burst
    assert len(claim(app)) == 2
    assert {j.state for j in app.list_jobs(state="available", limit=100)} == {JobState.AVAILABLE}
    assert len(app.list_jobs(state="available", limit=100)) == 15


def test_a_held_job_is_reported_once_per_wait(
    clocked_app: Taskward, clock: FakeClock, work
) -> None:
    app = clocked_app
    recorder = EventRecorder(app)
    app.limits.add(Limit(rate=Rate(1, per=10.0)))
    first, second = work.enqueue(n=1), work.enqueue(n=2)
    for _ in range(3):
        claim(app)
    held = recorder.of(JobRateLimited)
    assert [(e.job.id, e.limit) for e in held] == [(second.id, "global")]  # type: ignore[attr-defined]
    assert [e["name"] for e in app.job_events(second.id)] == [
        "taskward.job.inserted",
        "taskward.job.rate_limited",
    ]
    clock.advance(10)
    assert [j.id for j in claim(app)] == [second.id]
    assert first.id != second.id
    recorder.close()


def test_priorities_order_jobs_within_what_the_limit_allows(
    clocked_app: Taskward, clock: FakeClock, work
) -> None:
    app = clocked_app
    app.limits.add(Limit(rate=Rate(3, per=60.0)))
    for priority in (5, 9, 1, 3, 0, 7):
        work.options(priority=priority).enqueue(n=priority)
    assert [j.priority for j in claim(app)] == [0, 1, 3]


def test_the_highest_priority_can_bypass_a_rate_limit(
    clocked_app: Taskward, clock: FakeClock, work
) -> None:
    app = clocked_app
    app.limits.add(Limit(task="work", rate=Rate(1, per=60.0), bypass_priority=0))
    work.options(priority=0).enqueue_many([{"n": n} for n in range(3)])
    work.options(priority=1).enqueue_many([{"n": n} for n in range(3)])
    assert Counter(j.priority for j in claim(app)) == {0: 3}  # the one token went to them too
    assert claim(app) == []


def test_a_concurrency_cap_per_key_counts_executing_jobs(
    clocked_app: Taskward, clock: FakeClock, work
) -> None:
    app = clocked_app
    app.limits.add(Limit(task="work", concurrency=2, by="customer"))
    work.enqueue_many([{"customer": c, "n": n} for n in range(4) for c in ("acme", "globex")])
    running = claim(app)
    assert Counter(j.kwargs["customer"] for j in running) == {"acme": 2, "globex": 2}
    assert claim(app) == []
    complete(app, next(j for j in running if j.kwargs["customer"] == "acme"))
    (next_one,) = claim(app)
    assert next_one.kwargs["customer"] == "acme"


def test_a_global_cap_spans_every_queue(clocked_app: Taskward, clock: FakeClock, work) -> None:
    app = clocked_app
    app.limits.add(Limit(concurrency=3))
    work.options(queue="a").enqueue_many([{"n": n} for n in range(3)])
    work.options(queue="b").enqueue_many([{"n": n} for n in range(3)])
    assert len(claim(app, "a", 2)) == 2
    assert len(claim(app, "b")) == 1


def test_limits_of_other_queues_leave_a_queue_on_the_plain_claim(
    clocked_app: Taskward, work
) -> None:
    app = clocked_app
    assert app.store.claim_limiter is None  # no limits: the store never asks
    app.limits.add(Limit(queue="emails", concurrency=1))
    with app.connect() as conn:
        assert app.store.claim_limiter is not None
        limiter = app.store.claim_limiter
        assert limiter.choose(app.store, conn, "default", 10, app.clock.now()) is None
    work.enqueue_many([{"n": n} for n in range(5)])
    assert len(claim(app)) == 5


def test_a_task_declares_its_limit(clocked_app: Taskward, clock: FakeClock) -> None:
    app = clocked_app

    @app.task(name="charge", limit=Limit(rate=Rate(2, per=1.0), by=0))
    def charge(customer: str) -> None: ...

    charge.enqueue_many([("a",)] * 5 + [("b",)] * 5)
    assert Counter(j.args[0] for j in claim(app)) == {"a": 2, "b": 2}
    assert [lim.name for lim in app.limits] == ["task:charge"]


def test_idle_per_key_buckets_are_pruned(clocked_app: Taskward, clock: FakeClock, work) -> None:
    app = clocked_app
    app.limits.add(Limit(rate=Rate(10, per=1.0), by="customer"))
    work.enqueue_many([{"customer": str(c)} for c in range(5)])
    assert len(claim(app)) == 5
    assert app.limits.prune() == 0  # still refilling
    clock.advance(1.0)
    assert app.limits.prune() == 5


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda: Limit(), "give rate=, concurrency= or both"),
        (lambda: Limit(concurrency=0), "concurrency must be a positive integer"),
        (lambda: Rate(0), "rate limit must be a positive integer"),
        (lambda: Rate(1, per=0), "rate period must be positive"),
        (lambda: Limit(concurrency=1, bypass_priority=0), "bypass_priority needs a rate"),
    ],
)
def test_bad_limits_are_refused(make, problem: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidLimitError, match=problem):
        make()


def test_a_worker_waits_out_a_rate_limit_and_never_fails_a_job(
    clocked_app: Taskward, clock: FakeClock, work
) -> None:
    app = clocked_app
    app.limits.add(Limit(rate=Rate(1, per=10.0)))
    jobs = work.enqueue_many([{"n": n} for n in range(3)])

    def completed() -> int:
        return sum(app.get_job(j.id).state is JobState.COMPLETED for j in jobs)

    async def body(worker: Worker) -> None:
        await wait_until(lambda: completed() == 1, what="the first job")
        for done in (2, 3):
            assert completed() == done - 1  # the others wait while the clock stands still
            clock.advance(10)
            await wait_until(lambda: completed() == done, what=f"job {done}")  # noqa: B023

    with_worker(app, body)
    assert all(not app.get_job(j.id).errors for j in jobs)
