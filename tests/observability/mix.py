"""A known mix of jobs (succeed, retry then succeed, discard, cancel, time out) and the
database's own account of it, for checking every signal against the database."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa

from taskward.core import Cancel, Constant, Job, Taskward, current_attempt, schema

ATTEMPT_OF_EVENT = {
    "taskward.job.completed": "completed",
    "taskward.job.failed": "retryable",
    "taskward.job.retry_scheduled": "retryable",
    "taskward.job.discarded": "discarded",
    "taskward.job.cancelled": "cancelled",
}


def define_mix(app: Taskward, queue: str = "default") -> None:
    @app.task(name="mix.ok", queue=queue)
    def ok(n: int) -> int:
        return n

    @app.task(name="mix.flaky", queue=queue, backoff=Constant(0), max_attempts=3)
    def flaky() -> str:
        if current_attempt().job.attempt == 1:
            raise ConnectionError("the first try fails")
        return "second try"

    @app.task(name="mix.bad", queue=queue, max_attempts=1)
    def bad() -> None:
        raise ValueError("always fails")

    @app.task(name="mix.stop", queue=queue)
    async def stop() -> None:
        raise Cancel("not needed any more")

    @app.task(name="mix.slow", queue=queue, timeout=0.05, max_attempts=1)
    async def slow() -> None:
        await asyncio.sleep(5)


def enqueue_mix(app: Taskward, oks: int = 5) -> list[Job]:
    """The mix, plus one job cancelled before it ever ran (which is not an attempt)."""
    jobs = [app.enqueue("mix.ok", [i]) for i in range(oks)]
    jobs += [app.enqueue(name) for name in ("mix.flaky", "mix.bad", "mix.stop", "mix.slow")]
    never = app.enqueue("mix.ok", [-1], in_=3600)
    app.cancel(never.id)
    return [*jobs, never]


@dataclass
class Truth:
    """Counts read from the job rows and the event outbox."""

    attempts: Counter[str]
    errors: Counter[str]
    states: Counter[str]
    inserted: int


def db_truth(app: Taskward) -> Truth:
    e, j = schema.job_events, schema.jobs
    with app.connect() as conn:
        events = conn.execute(sa.select(e.c.name, e.c.data)).all()
        jobs = conn.execute(sa.select(j.c.state, j.c.errors)).all()
    attempts: Counter[str] = Counter()
    for name, data in events:
        if name in ATTEMPT_OF_EVENT and (data or {}).get("duration") is not None:
            attempts[ATTEMPT_OF_EVENT[name]] += 1
    return Truth(
        attempts=attempts,
        errors=Counter(err["type"] for _, errors in jobs for err in errors),
        states=Counter(state for state, _ in jobs),
        inserted=sum(1 for name, _ in events if name == "taskward.job.inserted"),
    )
