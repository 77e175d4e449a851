"""Fan-out from inside a running job: children awaited by a later step, on both dialects."""

from __future__ import annotations

import sqlalchemy as sa

from taskward.core import JobState, Retry, Taskward, current_attempt, schema
from taskward.core.testing import drain
from taskward.core.workflows import chain, spawn, spawn_async, spawned_results

CHILDREN = 1000


def test_a_thousand_spawned_children_are_awaited_by_the_final_step(app: Taskward) -> None:
    @app.task(name="square")
    def square(n: int) -> int:
        return n * n

    @app.task(name="fan_out")
    async def fan_out(n: int) -> int:
        children = await spawn_async(*(square.spec(i) for i in range(n)))
        return len(children)

    @app.task(name="total")
    def total() -> int:
        return sum(spawned_results())

    run = chain(fan_out.spec(CHILDREN), total.spec()).enqueue(app)
    drain(app, ["default"], claim_batch=200)
    final = app.get_job(run["total"].id)
    assert final.state is JobState.COMPLETED
    assert final.result == sum(i * i for i in range(CHILDREN))
    view = app.workflows.get(run.id)
    assert len(view.steps) == CHILDREN + 2 and view.counts == {"completed": CHILDREN + 2}
    assert len(view["total"].spawned) == CHILDREN
    assert view["total"].depends_on == (run["fan_out"].id,)


def test_the_final_step_does_not_start_while_a_child_is_unfinished(app: Taskward) -> None:
    @app.task(name="child", queue="slow")
    def child() -> str:
        return "done"

    @app.task(name="parent")
    def parent() -> None:
        spawn(child.spec(), child.spec())

    @app.task(name="after")
    def after() -> list[str]:
        return list(spawned_results())

    run = chain(parent.spec(), after.spec()).enqueue(app)
    drain(app, ["default"])  # the parent ran; its children wait on another queue
    assert app.get_job(run["parent"].id).state is JobState.COMPLETED
    assert app.get_job(run["after"].id).state is JobState.SCHEDULED
    waiting = app.workflows.get(run.id)["after"].waiting_on
    assert len(waiting) == 2 and run["parent"].id not in waiting
    drain(app, ["slow"])
    drain(app, ["default"])
    assert app.get_job(run["after"].id).result == ["done", "done"]


def test_a_retried_parent_gets_its_children_back_instead_of_spawning_twice(
    app: Taskward,
) -> None:
    @app.task(name="leaf")
    def leaf(n: int) -> int:
        return n

    @app.task(name="flaky_parent", max_attempts=2)
    def flaky_parent() -> None:
        spawn(leaf.spec(1), leaf.spec(2))
        if current_attempt().job.attempt == 1:
            raise Retry(0)

    flaky_parent.enqueue()
    drain(app, with_scheduled=True)
    with app.connect() as conn:
        tasks = conn.scalars(sa.select(schema.jobs.c.task)).all()
    assert sorted(tasks) == ["flaky_parent", "leaf", "leaf"]
