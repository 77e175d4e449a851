"""Retention: finished jobs past their age go, with their logs and the events all have read."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Collection, Iterator, Sequence
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from taskward.core import Job, JobState, Taskward, schema
from taskward.core._ids import uuid7
from taskward.core.events import MaintenanceRan, RetentionPruned
from taskward.core.relay import EventRelay
from taskward.core.retention import Pruner, RetentionPolicy
from taskward.core.store.outbox import Outbox, Position
from taskward.core.testing import EventRecorder
from tests.core.retention_data import (
    DAY,
    LOGS,
    POLICY,
    E,
    J,
    bulk_insert,
    finished_jobs,
    generate_finished,
)
from tests.core.worker_support import fast, wait_until


@pytest.fixture
def retained_app(database_url: str) -> Iterator[Taskward]:
    app = Taskward(database_url, retention=POLICY)

    @app.task(name="noop")
    def noop(n: int = 0) -> int:
        return n

    yield app
    app.close()


def test_the_leader_prunes_100k_finished_jobs_while_its_worker_runs(
    retained_app: Taskward,
) -> None:
    app, now = retained_app, datetime.now(UTC)
    jobs = generate_finished(app, 10_000, now)
    due = {job_id for job_id, is_due in jobs.items() if is_due}
    # A job an unfinished one waits for stays, however old.
    needed = Job(uuid7(), "default", "noop", JobState.COMPLETED, inserted_at=now - 9 * DAY)
    bulk_insert(app, [needed.evolve(scheduled_at=needed.inserted_at)], now)
    waiter = Job(uuid7(), "default", "noop", JobState.SCHEDULED, inserted_at=now)
    with app.engine.begin() as conn:
        app.store.insert(conn, [waiter.evolve(scheduled_at=datetime(9999, 1, 1, tzinfo=UTC))], now)
        conn.execute(
            schema.job_dependencies.insert().values(
                job_id=waiter.id, depends_on=needed.id, position=0
            )
        )
    # Two consumers: one has read everything, the slow one half the outbox.
    event_ids = _event_ids(app)
    EventRelay(app.engine, "fast", start="latest")
    slow = EventRelay(app.engine, "slow", start="earliest")
    slow.seek(event_ids[len(event_ids) // 2])
    slowest = slow.cursor()
    recorder = EventRecorder(app)

    async def run() -> list[Job]:
        worker = app.worker({"default": 10}, **fast())
        await worker.start()
        try:
            fresh = [app.enqueue("noop", (n,)) for n in range(50)]
            await wait_until(lambda: _count(app, J) <= len(jobs) - len(due) + 52, within=60)
            fresh += [app.enqueue("noop", (n,)) for n in range(50)]
            await wait_until(lambda: _completed(app, fresh), within=30, what="fresh jobs")
            return fresh
        finally:
            await worker.shutdown()

    fresh = asyncio.run(run())
    app.bus.flush()

    with app.engine.connect() as conn:
        left = set(conn.scalars(sa.select(J.c.id)))
        logged = set(conn.scalars(sa.select(LOGS.c.job_id)))
        events = conn.execute(sa.select(E.c.job_id, E.c.txid, E.c.id)).all()
    kept = set(jobs) - due
    assert left == kept | {needed.id, waiter.id} | {job.id for job in fresh}
    assert logged >= kept | {needed.id}
    assert not logged & due
    pruned_events = [e for e in events if e.job_id in due]
    assert pruned_events  # the slow consumer has not read these yet: they stay
    assert all(Position(e.txid or 0, e.id) > slowest for e in pruned_events)
    assert {e.job_id for e in events} >= kept

    pruned: dict[str, int] = {}
    for event in recorder.events:
        if isinstance(event, RetentionPruned):
            for state, count in event.jobs.items():
                pruned[state] = pruned.get(state, 0) + count
    assert pruned == {"completed": 40_000, "cancelled": 10_000, "discarded": 10_000}
    purges = [e for e in recorder.events if isinstance(e, MaintenanceRan) and e.kind == "purge"]
    assert purges and all(e.error is None for e in purges)
    recorder.close()


def test_events_are_trimmed_behind_the_slowest_consumer_once_old(
    retained_app: Taskward,
) -> None:
    app, now = retained_app, datetime.now(UTC)
    for n in range(20):
        app.enqueue("noop", (n,))
    with app.engine.begin() as conn:
        conn.execute(E.update().values(at=now - 8 * DAY))
        ids = list(conn.scalars(sa.select(E.c.id).order_by(E.c.id)))
    slow = EventRelay(app.engine, "slow", start="earliest")
    slow.ack(slow.read()[:5])
    EventRelay(app.engine, "fast")
    pruner = Pruner(app.engine, clock=app.clock, emit=app.emit, policy=POLICY, batch=3)
    assert pruner.prune().events == 5
    assert _event_ids(app) == ids[5:]

    slow.unregister()  # a retired consumer no longer holds events back
    assert pruner.prune().events == 14
    assert _event_ids(app) == ids[-1:]  # the newest stays: SQLite must not reuse its id


def test_only_what_the_archive_confirms_is_deleted(retained_app: Taskward) -> None:
    app, now = retained_app, datetime.now(UTC)
    jobs, due = finished_jobs(50, now)
    bulk_insert(app, jobs, now)
    offered: list[uuid.UUID] = []

    class HalfArchive:
        def archive(self, batch: Sequence[Job]) -> Collection[uuid.UUID]:
            offered.extend(job.id for job in batch)
            return [job.id for job in batch if job.id.int % 2] + [uuid7()]  # + one it never saw

    pruner = Pruner(
        app.engine, clock=app.clock, emit=app.emit, policy=POLICY, archive=HalfArchive(), batch=7
    )
    done = pruner.prune()
    confirmed = {i for i in due if i.int % 2}
    assert set(offered) == due
    assert sum(done.jobs.values()) == len(confirmed)
    with app.engine.connect() as conn:
        left = set(conn.scalars(sa.select(J.c.id)))
    assert left == {job.id for job in jobs} - confirmed


def test_a_job_retried_after_it_was_chosen_is_not_deleted(retained_app: Taskward) -> None:
    app, now = retained_app, datetime.now(UTC)
    jobs, due = finished_jobs(10, now)
    bulk_insert(app, jobs, now)
    retried = next(job for job in jobs if job.id in due)

    class RetryFirst:
        def archive(self, batch: Sequence[Job]) -> Collection[uuid.UUID]:
            app.retry(retried.id)  # an operator, between the choice and the delete
            return [job.id for job in batch]

    pruner = Pruner(app.engine, clock=app.clock, emit=app.emit, policy=POLICY, archive=RetryFirst())
    pruner.prune()
    assert app.get_job(retried.id).state is JobState.AVAILABLE


def test_policy_ages_and_bad_values() -> None:
    policy = RetentionPolicy(discarded=None, queues={"audit": {"completed": 30 * DAY}})
    assert policy.age("completed") == DAY
    assert policy.age("completed", "audit") == 30 * DAY
    assert policy.age("cancelled", "audit") == DAY
    assert policy.age("discarded") is None
    with pytest.raises(ValueError, match=r"queues\.audit: unknown state 'available'"):
        RetentionPolicy(queues={"audit": {"available": DAY}})
    with pytest.raises(ValueError, match="retention completed: expected a duration"):
        RetentionPolicy(completed=-DAY)
    with pytest.raises(ValueError, match="retention events"):
        RetentionPolicy(events=3600)  # type: ignore[arg-type]


def _count(app: Taskward, table: sa.Table) -> int:
    with app.engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


def _completed(app: Taskward, jobs: Sequence[Job]) -> bool:
    ids = [job.id for job in jobs]
    with app.engine.connect() as conn:
        done = conn.scalar(
            sa.select(sa.func.count()).where(J.c.id.in_(ids), J.c.state == "completed")
        )
    return done == len(ids)


def _event_ids(app: Taskward) -> list[int]:
    with app.engine.connect() as conn:
        return list(conn.scalars(sa.select(E.c.id).order_by(E.c.id)))


def test_outbox_slowest_is_none_without_consumers(retained_app: Taskward) -> None:
    with retained_app.engine.connect() as conn:
        assert Outbox(retained_app.store.dialect).slowest(conn) is None
