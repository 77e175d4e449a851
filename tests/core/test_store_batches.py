"""The store's batched write paths: small batches (one statement) and large ones (COPY on
PostgreSQL), both dialects. What they write must be exactly what the row says."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from taskward.core import JobState, Taskward, schema
from taskward.core.events import JobCompleted, JobEvent, JobFailed
from taskward.core.outcomes import ErrorRecord
from taskward.core.store.postgresql import COPY_FROM, QUEUE_PREFIX, WAKEUP_CHANNEL
from taskward.core.worker.transitions import rescued

E = schema.job_events
#: Both sides of PostgreSQL's switch from one JSON statement to COPY.
SIZES = [1, COPY_FROM + 1]


def _outbox(app: Taskward) -> list[tuple[uuid.UUID, str]]:
    with app.connect() as conn:
        return [
            (r[0], r[1]) for r in conn.execute(sa.select(E.c.job_id, E.c.name).order_by(E.c.id))
        ]


@pytest.mark.parametrize("size", SIZES)
def test_new_jobs_and_their_events_are_written_in_order(app: Taskward, size: int) -> None:
    @app.task(queue="batch", tags=["t"])
    def work(n: int, label: str = "") -> None: ...

    jobs = work.enqueue_many([{"n": n, "label": f"é{n}"} for n in range(size)])
    assert _outbox(app) == [(j.id, "taskward.job.inserted") for j in jobs]
    stored = app.get_job(jobs[-1].id)
    assert stored == jobs[-1]
    assert stored.kwargs == {"n": size - 1, "label": f"é{size - 1}"}
    assert stored.tags == ["t"] and stored.meta == {} and stored.errors == []
    assert stored.scheduled_at is not None and stored.scheduled_at.tzinfo is UTC


@pytest.mark.parametrize("size", SIZES)
def test_times_text_and_json_values_round_trip_exactly(app: Taskward, size: int) -> None:
    @app.task
    def work(payload: Any) -> None: ...

    at = datetime(2031, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
    payload = {"nested": [1, 2.5, None, True, "\u2028 \\ \" ' \t\n"], "big": 10**20}
    queue = "odd \\ queue\twith\nescapes\r"  # every character COPY's text format escapes
    options = work.options(at=at, queue=queue, meta={"k": "v\\"}, timeout=1.5)
    jobs = options.enqueue_many([(payload,)] * size)
    stored = app.get_job(jobs[-1].id)
    assert stored == jobs[-1]
    assert stored.state is JobState.SCHEDULED
    assert stored.scheduled_at == at
    assert stored.queue == queue
    assert stored.args == [payload]
    assert stored.meta == {"k": "v\\"}
    assert stored.timeout == 1.5


def _finish(app: Taskward, events: list[JobEvent]) -> None:
    with app.connect() as conn:
        app.store.write_transitions(conn, events)


@pytest.mark.parametrize("size", SIZES)
def test_a_settlement_writes_every_snapshot_and_event(app: Taskward, size: int) -> None:
    @app.task
    def work(n: int) -> None: ...

    work.enqueue_many([(n,) for n in range(size)])
    now = app.clock.now()
    with app.connect() as conn:
        started = app.store.claim(conn, "default", "w1", size, now)
    finished = now + timedelta(seconds=1)
    error = ErrorRecord(attempt=1, at=finished, type="ValueError", message="no", traceback="")
    events: list[JobEvent] = []
    for n, s in enumerate(started):
        if n % 2:
            retry = s.job.evolve(
                state=JobState.RETRYABLE, scheduled_at=finished, errors=[error.to_json()]
            )
            events.append(JobFailed(at=finished, job=retry, error=error, next_at=finished))
        else:
            done = s.job.evolve(state=JobState.COMPLETED, finished_at=finished, result={"n": n})
            events.append(JobCompleted(at=finished, job=done, duration=0.001))
    _finish(app, events)
    for event in (events[0], events[-1]):
        assert app.get_job(event.job.id) == event.job
    names = [name for _, name in _outbox(app)]
    assert names[-size:] == [e.name for e in events]


def test_a_job_settled_twice_in_one_batch_keeps_its_last_snapshot(app: Taskward) -> None:
    @app.task
    def work() -> None: ...

    job = work.enqueue()
    now = app.clock.now()
    with app.connect() as conn:
        (started,) = app.store.claim(conn, "default", "w1", 1, now)
    first = started.job.evolve(state=JobState.COMPLETED, finished_at=now, result=1)
    last = started.job.evolve(state=JobState.COMPLETED, finished_at=now, result=2)
    _finish(app, [JobCompleted(at=now, job=first), JobCompleted(at=now, job=last)])
    assert app.get_job(job.id).result == 2
    assert [n for i, n in _outbox(app) if i == job.id][-2:] == ["taskward.job.completed"] * 2


def test_lock_owned_fences_a_large_batch(app: Taskward) -> None:
    @app.task
    def work(n: int) -> None: ...

    work.enqueue_many([(n,) for n in range(300)])
    now = app.clock.now()
    with app.connect() as conn:
        mine = [s.job.id for s in app.store.claim(conn, "default", "w1", 200, now)]
        theirs = [s.job.id for s in app.store.claim(conn, "default", "w2", 100, now)]
    with app.connect() as conn:
        owned = app.store.lock_owned(conn, [*mine, *theirs, uuid.uuid4()], "w1")
    assert owned == dict.fromkeys(mine, 1)


def test_lock_owned_reports_the_attempt_so_an_earlier_attempt_cannot_settle(app: Taskward) -> None:
    """Rescued and claimed again by the same worker: only the new attempt is the owner."""

    @app.task
    def work() -> None: ...

    job = work.enqueue()
    now = app.clock.now()
    with app.connect() as conn:
        [first] = app.store.claim(conn, "default", "w1", 1, now)
        app.store.write_transitions(conn, [rescued(first.job, now)])
    with app.connect() as conn:
        [second] = app.store.claim(conn, "default", "w1", 1, now)
        owned = app.store.lock_owned(conn, [job.id], "w1")
    assert (first.job.attempt, second.job.attempt) == (1, 2)
    assert owned == {job.id: 2}


@pytest.mark.parametrize("size", SIZES)
def test_enqueue_notifies_listeners_on_postgresql(postgresql_database: str, size: int) -> None:
    app = Taskward(postgresql_database)
    try:

        @app.task(queue="wake")
        def work(n: int) -> None: ...

        received: list[str] = []
        url = sa.make_url(postgresql_database).set(drivername="postgresql")
        with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute(f"LISTEN {WAKEUP_CHANNEL}")
            listening = threading.Thread(
                target=lambda: received.extend(
                    n.payload for n in conn.notifies(timeout=10, stop_after=1)
                )
            )
            listening.start()
            work.enqueue_many([(n,) for n in range(size)])
            listening.join()
        assert received == [f"{QUEUE_PREFIX}wake"]
    finally:
        app.close()
