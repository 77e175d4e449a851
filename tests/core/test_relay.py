"""The event relay: committed events in order, at least once, never skipped, per consumer."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from taskward.core import Taskward, schema
from taskward.core.relay import EventReader, EventRelay, OutboxEvent
from tests.core.worker_support import fast, wait_until
from tests.ops.conftest import ROOT, clean_env, wait_for


@pytest.fixture
def loose_app(database_url: str) -> Iterator[Taskward]:
    app = Taskward(database_url, allow_unregistered=True)
    yield app
    app.close()


def _ids(app: Taskward) -> list[int]:
    with app.engine.connect() as conn:
        return list(conn.scalars(sa.select(schema.job_events.c.id).order_by("id")))


def test_events_committed_after_a_later_id_are_still_read(postgresql_database: str) -> None:
    # PostgreSQL takes event ids from a sequence at insert, not at commit: here the
    # transaction holding the smaller id commits last, with the reader in between.
    app = Taskward(postgresql_database, allow_unregistered=True)
    relay = EventRelay(app.engine, "feed", start="earliest")
    try:
        early, late = app.engine.connect(), app.engine.connect()
        early.begin()
        first = app.enqueue("t", ("early",), connection=early)
        late.begin()
        second = app.enqueue("t", ("late",), connection=late)
        late.commit()
        assert _ids(app) == [2]  # committed, with the larger id

        seen = relay.read()  # the earlier transaction is still open: nothing is final yet
        assert seen == []
        early.commit()
        seen = relay.read()
        assert [(e.id, e.job_id) for e in seen] == [(1, first.id), (2, second.id)]
        relay.ack(seen)
        assert relay.read() == []
        early.close()
        late.close()
    finally:
        relay.close()
        app.close()


def test_reading_by_id_alone_would_have_skipped(postgresql_database: str) -> None:
    # The same race with a third transaction that commits while the first is open: a
    # reader that went by id would pass the open one's id for good.
    app = Taskward(postgresql_database, allow_unregistered=True)
    reader = EventReader(app.engine)
    try:
        slow = app.engine.connect()
        slow.begin()
        app.enqueue("t", ("slow",), connection=slow)  # id 1, open
        app.enqueue("t", ("fast",))  # id 2, committed
        assert reader.read() == []
        slow.commit()
        assert [e.id for e in reader.read()] == [1, 2]
        slow.close()
    finally:
        reader.close()
        app.close()


def test_consumers_are_independent_and_durable(loose_app: Taskward) -> None:
    app = loose_app
    fast = EventRelay(app.engine, "fast", start="earliest", batch=4)
    slow = EventRelay(app.engine, "slow", start="earliest", batch=4)
    for n in range(10):
        app.enqueue("t", (n,))
    everything = _ids(app)

    got_fast = [e.id for batch in iter(fast.read, []) for e in batch]
    fast.ack(fast.position)
    first = slow.read()
    slow.ack(first)
    assert got_fast == everything
    assert [e.id for e in first] == everything[:4]

    # New objects with the same names (another process, later) resume from the cursors.
    assert EventRelay(app.engine, "fast").read() == []
    again = EventRelay(app.engine, "slow", start="latest", batch=100).read()
    assert [e.id for e in again] == everything[4:]
    with app.engine.connect() as conn:
        assert fast.outbox.slowest(conn) == first[-1].position


def test_a_new_consumer_starts_at_the_head_or_at_the_start(loose_app: Taskward) -> None:
    app = loose_app
    app.enqueue("t", (1,))
    latest = EventRelay(app.engine, "latest")
    earliest = EventRelay(app.engine, "earliest", start="earliest")
    assert latest.read() == []
    assert [e.name for e in earliest.read()] == ["taskward.job.inserted"]
    job = app.enqueue("t", (2,))
    fresh = latest.read()
    assert [(e.name, e.job_id, e.state) for e in fresh] == [
        ("taskward.job.inserted", job.id, "available")
    ]
    assert fresh[0].as_dict()["job_id"] == str(job.id)


def test_resume_after_a_given_event_id(loose_app: Taskward) -> None:
    app = loose_app
    for n in range(5):
        app.enqueue("t", (n,))
    ids = _ids(app)
    reader = EventReader(app.engine)
    reader.seek(ids[2])
    assert [e.id for e in reader.read()] == ids[3:]
    relay = EventRelay(app.engine, "sse")
    relay.seek(ids[0])
    assert [e.id for e in relay.read()] == ids[1:]
    assert relay.cursor().id == ids[0]  # seek stores the cursor; reading does not
    with pytest.raises(ValueError, match="no such event"):
        reader.seek(ids[-1] + 100)


def test_a_consumer_killed_mid_batch_resumes_from_its_cursor(
    loose_app: Taskward, tmp_path: Path
) -> None:
    app = loose_app
    app.enqueue_many([_spec(n) for n in range(45)])
    everything = _ids(app)
    out = tmp_path / "seen.txt"
    url = app.engine.url.render_as_string(hide_password=False)
    command = [sys.executable, "-m", "tests.core.relay_consumer", url, "mail", str(out)]

    first = subprocess.Popen([*command, "30"], cwd=ROOT, env=clean_env())
    try:
        wait_for(lambda: len(_lines(out)) >= 30, "the consumer to handle 30 events")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    relay = EventRelay(app.engine, "mail")
    assert relay.cursor().id == everything[19]  # the third batch was never acknowledged

    second = subprocess.Popen(command, cwd=ROOT, env=clean_env())
    try:
        wait_for(lambda: len(_lines(out)) >= 55, "the restarted consumer to catch up")
        wait_for(lambda: relay.cursor().id == everything[-1], "its last acknowledgement")
    finally:
        second.terminate()
        second.wait()
    seen = Counter(_lines(out))
    assert sorted(seen) == everything  # nothing skipped
    assert sorted(i for i, n in seen.items() if n > 1) == everything[20:30]  # at least once


def test_a_waiting_reader_wakes_on_commit(loose_app: Taskward) -> None:
    app = loose_app
    reader = EventReader(app.engine, poll_interval=30)
    try:
        reader.wait(0.01)  # the first wait returns at once (and starts listening)
        timer = threading.Timer(0.2, lambda: app.enqueue("t", ()))
        timer.start()
        began = time.monotonic()
        reader.wait()
        assert time.monotonic() - began < 10  # woken by the commit, not the 30 s poll
        timer.join()
        assert [e.name for e in reader.read()] == ["taskward.job.inserted"]
    finally:
        reader.close()


def test_bad_arguments_are_refused_with_their_name(loose_app: Taskward) -> None:
    with pytest.raises(ValueError, match="consumer name"):
        EventRelay(loose_app.engine, "")
    with pytest.raises(ValueError, match="batch"):
        EventRelay(loose_app.engine, "x", batch=0)
    with pytest.raises(ValueError, match="start"):
        EventRelay(loose_app.engine, "x", start="middle")  # type: ignore[arg-type]


def test_an_unregistered_consumer_cannot_acknowledge(loose_app: Taskward) -> None:
    relay = EventRelay(loose_app.engine, "gone")
    relay.unregister()
    with pytest.raises(LookupError, match="gone"):
        relay.ack(relay.position)


def _spec(n: int) -> object:
    from taskward.core import JobSpec

    return JobSpec("t", (n,))


def _lines(path: Path) -> list[int]:
    if not path.exists():
        return []
    return [int(line) for line in path.read_text().split()]


def test_the_leader_runs_the_apps_consumers(loose_app: Taskward) -> None:
    app = loose_app
    seen: list[str] = []
    failed_once: list[bool] = []

    def handle(events: list[OutboxEvent]) -> None:
        if not failed_once:  # the first batch fails: it is read again, not lost
            failed_once.append(True)
            raise RuntimeError("downstream unavailable")
        seen.extend(f"{e.name} {e.data.get('n', '')}".strip() for e in events)

    app.consumers.consume("audit", handle, start="earliest")
    app.task(name="t")(lambda n: None)
    app.enqueue("t", (1,))

    async def run() -> None:
        worker = app.worker(["default"], **fast())
        await worker.start()
        try:
            await wait_until(lambda: "taskward.job.completed" in seen, what="the consumer")
        finally:
            await worker.shutdown()

    asyncio.run(run())
    assert seen[:3] == ["taskward.job.inserted", "taskward.job.started", "taskward.job.completed"]
    assert EventRelay(loose_app.engine, "audit").cursor().id == _ids(app)[len(seen) - 1]
