"""The storage conformance suite: every behaviour, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from taskward.core import (
    FakeClock,
    InvalidJobError,
    JobState,
    Taskward,
    Unique,
    UnknownTaskError,
    schema,
)
from taskward.core.testing import EventRecorder
from tests.core.worker_support import count_rows


def _claim(app: Taskward, queue: str = "default", limit: int = 10, worker: str = "w1"):
    with app.connect() as conn:
        return [e.job for e in app.store.claim(conn, queue, worker, limit, app.clock.now())]


def test_enqueue_writes_the_row_and_an_outbox_event(app: Taskward) -> None:
    @app.task(queue="mail", priority=3, max_attempts=4, tags=["billing"])
    def send(to: str) -> None: ...

    job = send.enqueue("a@example.com")
    stored = app.get_job(job.id)
    assert stored.state is JobState.AVAILABLE
    assert (stored.queue, stored.task, stored.priority, stored.max_attempts) == (
        "mail",
        send.name,
        3,
        4,
    )
    assert stored.args == ["a@example.com"] and stored.tags == ["billing"]
    assert stored.attempt == 0 and stored.errors == []
    assert [e["name"] for e in app.job_events(job.id)] == ["taskward.job.inserted"]


def test_job_ids_are_time_ordered(app: Taskward) -> None:
    @app.task
    def noop() -> None: ...

    jobs = noop.enqueue_many([() for _ in range(50)])
    assert [j.id for j in jobs] == sorted(j.id for j in jobs)
    assert all(j.id.version == 7 for j in jobs)


def test_bulk_enqueue_inserts_every_job_in_one_transaction(app: Taskward) -> None:
    @app.task
    def add(a: int, b: int) -> int:
        return a + b

    jobs = add.enqueue_many([(i, i) for i in range(2000)])
    assert len({j.id for j in jobs}) == 2000
    assert count_rows(app) == 2000
    assert count_rows(app, schema.job_events) == 2000


def test_delayed_jobs_are_scheduled_until_staged(clocked_app: Taskward, clock: FakeClock) -> None:
    app = clocked_app

    @app.task
    def later() -> None: ...

    job = later.options(in_=60).enqueue()
    assert job.state is JobState.SCHEDULED
    assert _claim(app) == []
    with app.connect() as conn:
        assert app.store.stage(conn, clock.now()) == []
    clock.advance(61)
    with app.connect() as conn:
        staged = app.store.stage(conn, clock.now())
    assert [e.job.id for e in staged] == [job.id]
    assert [j.id for j in _claim(app)] == [job.id]


def test_claim_orders_by_priority_then_schedule_and_honours_the_limit(app: Taskward) -> None:
    @app.task
    def work(n: int) -> None: ...

    low = work.options(priority=5).enqueue(1)
    high = work.options(priority=0).enqueue(2)
    mid = work.options(priority=2).enqueue(3)
    other_queue = work.options(queue="other").enqueue(4)
    claimed = _claim(app, limit=2)
    assert [j.id for j in claimed] == [high.id, mid.id]
    assert all(j.state is JobState.EXECUTING and j.attempt == 1 for j in claimed)
    assert all(j.attempted_by == "w1" and j.attempted_at is not None for j in claimed)
    assert [j.id for j in _claim(app, limit=10)] == [low.id]
    assert [j.id for j in _claim(app, queue="other")] == [other_queue.id]


def test_concurrent_claims_never_hand_out_a_job_twice(app: Taskward) -> None:
    @app.task
    def work(n: int) -> None: ...

    work.enqueue_many([(i,) for i in range(600)])
    seen: list[list[object]] = [[] for _ in range(4)]

    def claimer(slot: int) -> None:
        while batch := _claim(app, limit=25, worker=f"w{slot}"):
            seen[slot].extend(j.id for j in batch)

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [i for ids in seen for i in ids]
    assert len(everything) == 600
    assert len(set(everything)) == 600


def test_invalid_enqueues_name_the_field_and_write_nothing(app: Taskward) -> None:
    @app.task
    def work(x: object) -> None: ...

    cases = [
        (lambda: app.enqueue("no.such.task"), "task"),
        (lambda: work.enqueue(object()), "args"),
        (lambda: work.enqueue(x=float("nan")), "kwargs"),
        (lambda: work.options(in_=-5).enqueue(1), "in_"),
        (lambda: work.options(priority=10).enqueue(1), "priority"),
        (lambda: work.options(priority=-1).enqueue(1), "priority"),
        (lambda: work.options(max_attempts=0).enqueue(1), "max_attempts"),
        (lambda: work.options(queue="").enqueue(1), "queue"),
    ]
    for call, field in cases:
        with pytest.raises(InvalidJobError) as info:
            call()
        assert info.value.field == field, info.value
        assert field in str(info.value)
    with pytest.raises(UnknownTaskError, match=r"no\.such\.task"):
        app.enqueue("no.such.task")
    # a bad job in a batch rejects the whole batch
    with pytest.raises(InvalidJobError):
        work.enqueue_many([(1,), (object(),)])
    assert count_rows(app) == 0
    assert count_rows(app, schema.job_events) == 0


def test_unique_jobs_return_the_existing_job(app: Taskward) -> None:
    @app.task(unique=Unique())
    def sync_account(account: int) -> None: ...

    first = sync_account.enqueue(7)
    again = sync_account.enqueue(7)
    other = sync_account.enqueue(8)
    assert again.id == first.id
    assert other.id != first.id
    assert count_rows(app) == 2


def test_unique_key_is_freed_when_the_job_finishes(app: Taskward) -> None:
    @app.task(unique=Unique())
    def refresh() -> None: ...

    first = refresh.enqueue()
    app.cancel(first.id)
    second = refresh.enqueue()
    assert second.id != first.id


def test_unique_window_holds_after_finish(clocked_app: Taskward, clock: FakeClock) -> None:
    app = clocked_app

    @app.task(unique=Unique(window=3600))
    def report() -> None: ...

    clock.set(clock.now().replace(minute=0, second=0))
    first = report.enqueue()
    app.cancel(first.id)
    assert report.enqueue().id == first.id
    clock.advance(3601)
    assert report.enqueue().id != first.id


def test_concurrent_unique_enqueues_make_one_job(app: Taskward) -> None:
    @app.task(unique=Unique(key=lambda order: f"order-{order}"))
    def charge(order: int) -> None: ...

    ids: list[object] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def enqueue() -> None:
        barrier.wait()
        for _ in range(10):
            job = charge.enqueue(42)
            with lock:
                ids.append(job.id)

    threads = [threading.Thread(target=enqueue) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 1
    assert count_rows(app) == 1


def test_enqueue_in_the_callers_transaction(app: Taskward) -> None:
    recorder = EventRecorder(app)

    @app.task
    def welcome(user: int) -> None: ...

    with app.engine.connect() as conn:
        trans = conn.begin()
        job = welcome.options(connection=conn).enqueue(1)
        trans.rollback()
    assert count_rows(app) == 0
    with app.engine.connect() as conn, conn.begin():
        job = welcome.options(connection=conn).enqueue(2)
        assert recorder.names(job.id) == []  # nothing emitted before commit
    assert app.get_job(job.id).args == [2]
    assert recorder.names(job.id) == ["taskward.job.inserted"]
    assert len(recorder.names()) == 1


def test_cancel_a_waiting_job_and_retry_it(app: Taskward) -> None:
    @app.task
    def work() -> None: ...

    job = work.enqueue()
    cancelled = app.cancel(job.id)
    assert cancelled.state is JobState.CANCELLED and cancelled.finished_at is not None
    assert _claim(app) == []
    retried = app.retry(job.id)
    assert retried.state is JobState.AVAILABLE and retried.finished_at is None
    assert [j.id for j in _claim(app)] == [job.id]
    names = [e["name"] for e in app.job_events(job.id)]
    assert names == [
        "taskward.job.inserted",
        "taskward.job.cancelled",
        "taskward.job.staged",
        "taskward.job.started",
    ]


def test_cancel_of_an_executing_job_is_a_request(app: Taskward) -> None:
    @app.task
    def work() -> None: ...

    job = work.enqueue()
    _claim(app)
    assert app.cancel(job.id).state is JobState.EXECUTING
    with app.connect() as conn:
        assert app.store.cancel_requested(conn, "w1") == {job.id}


def test_leases_have_one_holder_until_they_expire(app: Taskward) -> None:
    now = app.clock.now()
    with app.connect() as conn:
        assert app.store.try_lease(conn, "leader", "a", now, now + timedelta(seconds=30))
    with app.connect() as conn:
        assert not app.store.try_lease(conn, "leader", "b", now, now + timedelta(seconds=30))
        assert app.store.try_lease(conn, "leader", "a", now, now + timedelta(seconds=30))
    later = now + timedelta(seconds=31)
    with app.connect() as conn:
        assert app.store.try_lease(conn, "leader", "b", later, later + timedelta(seconds=30))
        assert not app.store.try_lease(conn, "leader", "a", later, later + timedelta(seconds=30))


def test_orphans_of_dead_workers_are_found(app: Taskward) -> None:
    @app.task
    def work() -> None: ...

    job = work.enqueue()
    now = app.clock.now()
    with app.connect() as conn:
        app.store.register_worker(conn, "dead", "h", 1, {"default": 1}, now - timedelta(minutes=5))
        app.store.register_worker(conn, "alive", "h", 2, {"default": 1}, now)
    _claim(app, worker="dead")
    with app.connect() as conn:
        assert [j.id for j in app.store.orphaned(conn, now - timedelta(minutes=1))] == [job.id]
        assert app.store.stale_workers(conn, now - timedelta(minutes=1)) == ["dead"]


def test_pause_and_resume_a_queue(app: Taskward) -> None:
    app.pause_queue("mail")
    with app.connect() as conn:
        assert app.store.paused_queues(conn) == {"mail"}
    app.resume_queue("mail")
    with app.connect() as conn:
        assert app.store.paused_queues(conn) == set()


def test_list_jobs_filters_and_pages_newest_first(app: Taskward) -> None:
    @app.task
    def work(n: int) -> None: ...

    jobs = work.enqueue_many([(i,) for i in range(7)])
    page1 = app.list_jobs(limit=3)
    page2 = app.list_jobs(limit=3, before=page1[-1].id)
    assert [j.id for j in page1 + page2] == [j.id for j in reversed(jobs)][:6]
    assert app.list_jobs(state="completed") == []
    assert len(app.list_jobs(task=work.name, queue="default")) == 7
