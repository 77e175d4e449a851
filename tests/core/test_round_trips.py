"""Server waits on PostgreSQL's hot paths, counted from the wire with libpq's protocol
trace: a one-by-one enqueue is one round trip (no BEGIN, no COMMIT of its own)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from taskward.core import Taskward, Unique


@contextmanager
def wire(app: Taskward) -> Iterator[Callable[[], int]]:
    """Trace the pool's one connection; yields a count of the client's server waits so far
    (a ``Sync`` ends an extended-protocol exchange, a ``Query`` is a simple one)."""
    with app.engine.connect() as conn:
        pgconn = conn.connection.driver_connection.pgconn  # type: ignore[union-attr]
    with tempfile.TemporaryFile("w+") as log:
        pgconn.trace(log.fileno())

        def waits() -> int:
            log.seek(0)
            sent = [line.split("\t") for line in log.read().splitlines()]
            return sum(1 for f in sent if len(f) > 3 and f[1] == "F" and f[3] in ("Sync", "Query"))

        try:
            yield waits
        finally:
            pgconn.untrace()


@pytest.fixture
def one_connection(postgresql_database: str) -> Iterator[Taskward]:
    from taskward.core.db import create_engine

    app = Taskward(create_engine(postgresql_database, pool_size=1, max_overflow=0))
    yield app
    app.close()


def test_a_single_enqueue_is_one_round_trip(one_connection: Taskward) -> None:
    app = one_connection

    @app.task
    def add(a: int, b: int) -> int:
        return a + b

    add.enqueue(0, 0)  # the pool's connection exists, and is not rested
    with wire(app) as waits:
        job = add.enqueue(1, 2)
        assert waits() == 1
    assert app.get_job(job.id).args == [1, 2]  # committed by that one statement


def test_an_enqueue_of_several_statements_keeps_its_transaction(one_connection: Taskward) -> None:
    app = one_connection

    @app.task(unique=Unique())
    def once(a: int) -> int:
        return a

    once.enqueue(0)
    with wire(app) as waits:
        first, again = once.enqueue(1), once.enqueue(1)
        assert waits() > 2  # BEGIN ... COMMIT around each: the insert and its events agree
    assert first.id == again.id


def test_a_claim_is_one_round_trip_and_writes_its_started_events(
    one_connection: Taskward,
) -> None:
    app = one_connection

    @app.task
    def add(a: int, b: int) -> int:
        return a + b

    jobs = add.enqueue_many([(n, n) for n in range(3)])
    store = app.store
    with wire(app) as waits:
        with app.connect(autocommit=store.claims_in_one_statement()) as conn:  # as a worker does
            started = store.claim(conn, "default", "w1", 2, app.clock.now())
        assert waits() == 1
    assert [s.job.id for s in started] == [j.id for j in jobs[:2]]
    for s in started:
        stored = app.job_events(s.job.id)
        assert [e["name"] for e in stored] == ["taskward.job.inserted", "taskward.job.started"]
        assert stored[1]["attempt"] == 1 and stored[1]["state"] == "executing"
        assert stored[1]["data"]["queue_wait"] == pytest.approx(s.queue_wait, abs=1e-6)
