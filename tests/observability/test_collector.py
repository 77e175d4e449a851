"""Collector gauges read from the database: zero-filled, cached, estimated when huge."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta

import sqlalchemy as sa

from taskward.core import FakeClock, Taskward, schema
from taskward.core.instrumentation import InstrumentationConfig, MetricsConfig
from taskward.core.instrumentation.snapshot import STATES
from tests.observability.conftest import MakeInst, sample


class Ticker:
    """A monotonic clock for the collector's cache that moves only when told."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@contextlib.contextmanager
def recording(app: Taskward) -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs inside the block."""
    seen: list[str] = []

    def record(_c: object, _cur: object, statement: str, *_rest: object) -> None:
        seen.append(statement)

    sa.event.listen(app.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(app.engine, "before_cursor_execute", record)


def test_gauges_describe_the_database(
    clocked_app: Taskward, clock: FakeClock, make_inst: MakeInst
) -> None:
    app = clocked_app
    config = MetricsConfig(queues=("idle",), stale_after=15)
    inst = make_inst(app, InstrumentationConfig(metrics=config))

    @app.task(queue="mail")
    def send() -> None: ...

    start = clock.now()
    send.enqueue_many([(), (), ()])
    clock.advance(30)
    with app.connect() as conn:
        app.store.claim(conn, "mail", "w-old", 1, clock.now())
        app.store.register_worker(conn, "w-old", "h", 1, {"mail": 1}, start)
        app.store.register_worker(conn, "w-new", "h", 2, {"other": 1}, clock.now())
    app.pause_queue("mail")
    clock.advance(12)

    assert sample(inst, "taskward_jobs", queue="mail", state="available") == 2
    assert sample(inst, "taskward_jobs", queue="mail", state="executing") == 1
    for queue in ("mail", "idle", "other"):
        for state in STATES:
            labels = {"queue": queue, "state": state}
            assert inst.registry.get_sample_value("taskward_jobs", labels) is not None
    assert sample(inst, "taskward_queue_oldest_job_age_seconds", queue="mail") == 42
    assert sample(inst, "taskward_queue_oldest_job_age_seconds", queue="idle") == 0
    assert sample(inst, "taskward_queue_oldest_executing_age_seconds", queue="mail") == 12
    assert sample(inst, "taskward_queue_paused", queue="mail") == 1
    assert sample(inst, "taskward_queue_paused", queue="idle") == 0
    assert sample(inst, "taskward_workers", state="alive") == 1
    assert sample(inst, "taskward_workers", state="stale") == 1
    assert sample(inst, "taskward_leader") == 0
    assert sample(inst, "taskward_collector_errors_total") == 0
    assert sample(inst, "taskward_collector_duration_seconds") > 0


def test_schedule_timestamps(clocked_app: Taskward, clock: FakeClock, make_inst: MakeInst) -> None:
    inst = make_inst(clocked_app)
    now = clock.now()
    with clocked_app.connect() as conn:
        conn.execute(
            schema.schedules.insert().values(
                name="nightly",
                cron="0 3 * * *",
                timezone="UTC",
                task="t",
                updated_at=now,
                next_fire_at=now + timedelta(hours=3),
                last_success_at=now - timedelta(days=1),
            )
        )
    next_fire = sample(inst, "taskward_schedule_next_fire_timestamp_seconds", schedule="nightly")
    assert next_fire == (now + timedelta(hours=3)).timestamp()
    success = sample(inst, "taskward_schedule_last_success_timestamp_seconds", schedule="nightly")
    assert success == (now - timedelta(days=1)).timestamp()


def test_readings_are_cached_for_the_ttl(clocked_app: Taskward, make_inst: MakeInst) -> None:
    inst = make_inst(clocked_app, InstrumentationConfig(metrics=MetricsConfig(collector_ttl=10)))
    assert inst.collector is not None
    ticker = Ticker()
    inst.collector._monotonic = ticker

    @clocked_app.task
    def noop() -> None: ...

    with recording(clocked_app) as first:
        assert sample(inst, "taskward_jobs", queue="default", state="available") == 0
    noop.enqueue()
    ticker.now = 9.9
    with recording(clocked_app) as cached:
        for _ in range(5):  # five scrapers within the TTL: no query, the old reading
            assert sample(inst, "taskward_jobs", queue="default", state="available") == 0
    assert cached == []
    ticker.now = 10.0
    with recording(clocked_app) as fresh:
        assert sample(inst, "taskward_jobs", queue="default", state="available") == 1
    assert len(fresh) == len(first) > 0


def test_an_unreadable_database_counts_an_error_and_recovers(
    clocked_app: Taskward, make_inst: MakeInst
) -> None:
    inst = make_inst(clocked_app, InstrumentationConfig(metrics=MetricsConfig(collector_ttl=0)))
    with clocked_app.connect() as conn:
        conn.execute(sa.text("ALTER TABLE taskward_queues RENAME TO taskward_queues_away"))
    names = {f.name for f in inst.registry.collect()}
    assert "taskward_jobs" not in names  # no stale numbers while the database is unreadable
    assert sample(inst, "taskward_collector_errors_total") == 2  # (every collect reads: TTL 0)
    with clocked_app.connect() as conn:
        conn.execute(sa.text("ALTER TABLE taskward_queues_away RENAME TO taskward_queues"))
    assert sample(inst, "taskward_jobs", queue="default", state="available") == 0
    assert sample(inst, "taskward_collector_errors_total") == 2


def test_postgresql_estimates_big_states(postgresql_database: str, make_inst: MakeInst) -> None:
    app = Taskward(postgresql_database)
    inst = make_inst(app, InstrumentationConfig(metrics=MetricsConfig(estimate_above=50)))

    @app.task(queue="bulk")
    def item() -> None: ...

    jobs = item.enqueue_many([() for _ in range(400)])
    with app.connect() as conn:
        conn.execute(
            schema.jobs.update()
            .where(schema.jobs.c.id.in_([j.id for j in jobs[:300]]))
            .values(state="completed")
        )
        conn.execute(sa.text("ANALYZE taskward_jobs"))
    with recording(app) as statements:
        completed = sample(inst, "taskward_jobs", queue="bulk", state="completed")
        available = sample(inst, "taskward_jobs", queue="bulk", state="available")
    inst.close()
    app.close()
    assert 200 <= completed <= 400  # the planner's estimate
    assert available == 100  # under the threshold: exact
    explained = [s for s in statements if s.startswith("EXPLAIN")]
    assert any("'completed'" in s and "'bulk'" in s for s in explained)
