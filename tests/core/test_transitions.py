"""``states.TRANSITIONS`` is enforced by every transition the store makes (issue 11, item 6)."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from taskward.core import JobState, Taskward, schema
from taskward.core.errors import IllegalTransitionError
from taskward.core.events import JobStaged
from taskward.core.states import TRANSITIONS, check_transitions

J = schema.jobs


def test_the_store_writes_only_transitions_in_the_table(app: Taskward) -> None:
    @app.task
    def work() -> None: ...

    job = work.enqueue()
    for source, target in itertools.product(JobState, JobState):
        with app.connect() as conn:
            conn.execute(J.update().where(J.c.id == job.id).values(state=source.value))
        stored = app.get_job(job.id)
        events_before = len(app.job_events(job.id))
        event = JobStaged(at=app.clock.now(), job=stored.evolve(state=target))
        if target in TRANSITIONS[source]:
            with app.connect() as conn:
                app.store.write_transitions(conn, [event], hooks=False)
            assert app.get_job(job.id).state is target
            continue
        with pytest.raises(IllegalTransitionError) as refused, app.connect() as conn:
            app.store.write_transitions(conn, [event], hooks=False)
        assert f"job {job.id}: {source} -> {target}" in str(refused.value)
        assert app.get_job(job.id).state is source  # rolled back, nothing written
        assert len(app.job_events(job.id)) == events_before


def test_a_batch_with_one_illegal_transition_writes_nothing(app: Taskward) -> None:
    @app.task
    def work() -> None: ...

    jobs = work.enqueue_many([() for _ in range(3)])
    now = app.clock.now()
    events = [
        JobStaged(at=now, job=jobs[0].evolve(state=JobState.EXECUTING)),
        JobStaged(at=now, job=jobs[1].evolve(state=JobState.COMPLETED)),  # not from available
        JobStaged(at=now, job=jobs[2].evolve(state=JobState.CANCELLED)),
    ]
    refused = f"job {jobs[1].id}: available -> completed"
    with pytest.raises(IllegalTransitionError, match=refused), app.connect() as conn:
        app.store.write_transitions(conn, events)
    with app.connect() as conn:
        states = set(conn.scalars(sa.select(J.c.state)))
    assert states == {"available"}


def test_a_statement_built_for_a_transition_not_in_the_table_raises() -> None:
    check_transitions({JobState.SCHEDULED, JobState.RETRYABLE}, JobState.AVAILABLE)
    with pytest.raises(IllegalTransitionError, match="completed -> executing"):
        check_transitions({JobState.AVAILABLE, JobState.COMPLETED}, JobState.EXECUTING)
