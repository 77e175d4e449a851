"""A worker process killed with SIGKILL mid-run: its jobs are rescued and run again; every job
completes exactly once, and side effects repeat only for jobs that were rescued."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from taskward.core import JobSpec, Taskward, schema
from tests.faults.conftest import Workers
from tests.faults.worker_app import EFFECTS, TASK, build_app

J, E = schema.jobs, schema.job_events


def _poll(condition: Callable[[], bool], timeout: float, what: str, workers: Workers) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {w.worker_id}\n{w.output()[-3000:]}" for w in workers.started)
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        time.sleep(0.05)


def _scalar(app: Taskward, stmt: sa.Select[tuple[int]]) -> int:
    with app.engine.connect() as conn:
        return int(conn.scalar(stmt) or 0)


def _in_state(app: Taskward, state: str, worker_id: str | None = None) -> int:
    stmt = sa.select(sa.func.count()).select_from(J).where(J.c.state == state)
    if worker_id is not None:
        stmt = stmt.where(J.c.attempted_by == worker_id)
    return _scalar(app, stmt)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("dialect", "count", "options"),
    [
        ("postgresql", 10_000, ["--concurrency", "20", "--work", "0.002"]),
        ("sqlite", 500, ["--concurrency", "10", "--work", "0.02"]),
    ],
)
def test_a_killed_worker_loses_no_job_and_completes_none_twice(
    request: pytest.FixtureRequest,
    workers: Workers,
    dialect: str,
    count: int,
    options: list[str],
) -> None:
    url: str = request.getfixturevalue(f"{dialect}_database")
    app = build_app(url)
    EFFECTS.create(app.engine)
    app.enqueue_many([JobSpec(TASK, (n,)) for n in range(count)])
    timing = ["--heartbeat", "0.3", "--rescue-after", "3"]
    began = time.monotonic()
    victim = workers.start(url, "fault-victim", *options, *timing)
    workers.start(url, "fault-survivor", *options, *timing)

    _poll(
        lambda: (
            _in_state(app, "completed") >= count // 10
            and _in_state(app, "executing", victim.worker_id) > 0
        ),
        60,
        "the victim to be busy",
        workers,
    )
    victim.kill()
    killed_at = time.monotonic() - began
    with app.engine.connect() as conn:
        orphaned = {
            str(job_id)
            for job_id in conn.scalars(
                sa.select(J.c.id).where(
                    J.c.state == "executing", J.c.attempted_by == victim.worker_id
                )
            )
        }
    assert orphaned, "the victim was killed with no job in flight"
    replacement = workers.start(url, "fault-replacement", *options, *timing)
    registered = sa.select(sa.func.count()).where(schema.workers.c.id == replacement.worker_id)
    _poll(lambda: _scalar(app, registered) == 1, 60, "the replacement to start", workers)
    _poll(lambda: _in_state(app, "completed") == count, 120, "every job to complete", workers)
    finished_at = time.monotonic() - began
    for worker in workers.started:
        if worker is not victim:
            assert worker.stop() == 0, worker.output()[-3000:]

    with app.engine.connect() as conn:
        states = Counter(
            dict(conn.execute(sa.select(J.c.state, sa.func.count()).group_by(J.c.state)).all())
        )
        completions = Counter(
            str(j)
            for j in conn.scalars(sa.select(E.c.job_id).where(E.c.name == "taskward.job.completed"))
        )
        rescued = {
            str(j)
            for j in conn.scalars(sa.select(E.c.job_id).where(E.c.name == "taskward.job.rescued"))
        }
        attempts = {str(i): a for i, a in conn.execute(sa.select(J.c.id, J.c.attempt))}
        effects: dict[str, list[int]] = defaultdict(list)
        for job_id, attempt in conn.execute(sa.select(EFFECTS.c.job_id, EFFECTS.c.attempt)):
            effects[job_id].append(attempt)
    app.close()

    repeated = {job_id for job_id, runs in effects.items() if len(runs) > 1}
    print(
        f"{dialect}: {count} jobs, killed at {killed_at:.1f}s, all done at {finished_at:.1f}s;"
        f" {len(orphaned)} orphaned, {len(rescued)} rescued, {len(repeated)} side effects repeated"
    )
    assert states == {"completed": count}, "a job was lost or left unfinished"
    assert len(completions) == count and set(completions.values()) == {1}, "completed twice"
    assert orphaned <= rescued, "a job of the killed worker was not rescued"
    assert set(effects) == set(attempts), "a job completed without running"
    assert repeated <= rescued, "a side effect repeated for a job that was never rescued"
    for job_id in repeated:
        runs = effects[job_id]
        assert len(set(runs)) == len(runs) and max(runs) == attempts[job_id] > 1
