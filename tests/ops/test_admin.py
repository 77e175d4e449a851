"""The admin service: bulk actions change exactly the matching rows, in batches, audited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from taskward.core import JobNotFoundError, JobState, Taskward
from taskward.core.schema import job_events, jobs
from taskward.core.testing import drain
from taskward.ops.admin import Admin, JobFilter


@pytest.fixture
def app(database_url: str) -> Iterator[Taskward]:
    app = Taskward(database_url)

    @app.task(name="shop.fail", max_attempts=1)
    def fail(order: int) -> None:
        raise ValueError(f"card declined for order {order}")

    @app.task(name="mail.fail", queue="mail", max_attempts=1)
    def mail_fail(to: str) -> None:
        raise ConnectionError(f"smtp down for {to}")

    @app.task(name="shop.ok")
    def ok(n: int) -> int:
        return n

    yield app
    app.close()


def _admin_rows(app: Taskward) -> list[dict[str, object]]:
    with app.connect() as conn:
        rows = conn.execute(
            sa.select(job_events).where(job_events.c.job_id.is_(None)).order_by(job_events.c.id)
        )
        return [dict(r) for r in rows.mappings()]


def test_bulk_retry_by_filter_changes_exactly_the_matching_rows(app: Taskward) -> None:
    failed = [app.enqueue("shop.fail", [n], tags=["vip"] if n % 2 else []) for n in range(7)]
    mail = [app.enqueue("mail.fail", [f"u{n}@example.com"]) for n in range(3)]
    done = app.enqueue("shop.ok", [1])
    drain(app)
    waiting = app.enqueue("shop.fail", [99], in_=3600)

    admin = Admin.of(app, "test:ada", batch_size=2)  # several batches
    where = JobFilter(states=("discarded",), queues=("default",), error="card declined")
    assert admin.count("retry", where) == 7
    seen: list[int] = []
    result = admin.retry(where, progress=seen.append)
    assert (result.matched, result.changed) == (7, 7)
    assert seen == [2, 4, 6, 7]

    states = {j.id: j for j in app.list_jobs(limit=100)}
    assert all(states[j.id].state is JobState.AVAILABLE for j in failed)
    assert all(states[j.id].max_attempts == 2 for j in failed)  # one more attempt
    assert all(states[j.id].state is JobState.DISCARDED for j in mail)
    assert states[done.id].state is JobState.COMPLETED
    assert states[waiting.id].state is JobState.SCHEDULED
    staged = [e for e in app.job_events(failed[0].id) if e["name"] == "taskward.job.staged"]
    assert staged[-1]["data"] == {"actor": "test:ada"}

    [audit] = _admin_rows(app)
    assert audit["name"] == "taskward.admin.jobs"
    assert audit["data"]["actor"] == "test:ada"  # type: ignore[index]
    assert audit["data"]["action"] == "retry"  # type: ignore[index]
    assert audit["data"]["count"] == 7  # type: ignore[index]
    assert audit["data"]["target"]["error"] == "card declined"  # type: ignore[index]

    drain(app)  # and they really run again
    assert {app.get_job(j.id).attempt for j in failed} == {2}


def test_tags_trace_and_time_filters(app: Taskward) -> None:
    vip = app.enqueue("shop.ok", [1], tags=["vip", "eu"])
    app.enqueue("shop.ok", [2], tags=["eu"])
    with app.connect() as conn:
        dialect = conn.dialect.name
        both = JobFilter(tags=("vip", "eu")).where(dialect)
        assert [r.id for r in conn.execute(sa.select(jobs.c.id).where(both))] == [vip.id]
        eu = JobFilter(tags=("eu",)).where(dialect)
        assert len(conn.execute(sa.select(jobs.c.id).where(eu)).all()) == 2
    admin = Admin.of(app, "test")
    assert vip.inserted_at is not None
    later = JobFilter(since=vip.inserted_at + timedelta(hours=1))
    assert admin.count("delete", later) == 0
    assert admin.count("delete", JobFilter(until=vip.inserted_at + timedelta(hours=1))) == 2


def test_cancel_waiting_and_delete(app: Taskward) -> None:
    done = app.enqueue("shop.ok", [9])
    drain(app)
    queued = [app.enqueue("shop.ok", [n]) for n in range(3)]
    admin = Admin.of(app, "test:grace")

    result = admin.cancel(JobFilter(states=("available",)))
    assert (result.changed, result.stopping) == (3, 0)
    assert {app.get_job(j.id).state for j in queued} == {JobState.CANCELLED}
    last = app.job_events(queued[0].id)[-1]
    assert (last["name"], last["data"]["reason"]) == (
        "taskward.job.cancelled",
        "cancelled by test:grace",
    )

    gone = admin.delete(JobFilter(ids=(done.id,)))
    assert gone.changed == 1
    with pytest.raises(JobNotFoundError):
        app.get_job(done.id)
    assert app.job_events(done.id) == []
    with pytest.raises(JobNotFoundError):
        admin.delete(JobFilter(ids=(done.id,)))
    assert [r["data"]["action"] for r in _admin_rows(app)] == ["cancel", "delete"]  # type: ignore[index]


def test_pause_and_resume_a_queue_are_audited(app: Taskward) -> None:
    admin = Admin.of(app, "test:linus")
    admin.pause_queue("mail")
    with app.connect() as conn:
        assert app.store.paused_queues(conn) == {"mail"}
    admin.resume_queue("mail")
    with app.connect() as conn:
        assert app.store.paused_queues(conn) == set()
    rows = _admin_rows(app)
    assert [(r["name"], r["queue"], r["data"]["action"]) for r in rows] == [  # type: ignore[index]
        ("taskward.admin.queue", "mail", "pause"),
        ("taskward.admin.queue", "mail", "resume"),
    ]


def test_enqueue_through_the_admin_names_the_actor(app: Taskward) -> None:
    job = Admin.of(app, "cli:ada").enqueue("shop.ok", [5], priority=3)
    assert (job.priority, job.meta["enqueued_by"]) == (3, "cli:ada")
    [row] = _admin_rows(app)
    assert row["data"]["target"] == {"task": "shop.ok", "job_id": str(job.id)}  # type: ignore[index]
