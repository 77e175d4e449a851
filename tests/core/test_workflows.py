"""Workflows on both dialects: dependencies, groups, chains, failure policies, cycles."""

from __future__ import annotations

import uuid

import pytest

from taskward.core import InvalidJobError, JobState, Taskward, schema
from taskward.core.errors import DependencyCycleError, WorkflowNotFoundError
from taskward.core.events import JobCompleted
from taskward.core.testing import drain
from taskward.core.workflows import (
    AWAITING,
    Workflow,
    chain,
    dependency_results,
    group,
    is_awaiting,
)
from tests.core.worker_support import count_rows


@pytest.fixture
def ran(app: Taskward) -> list[str]:
    """Steps in the order they ran; tasks ``step``, ``boom`` and ``collect``."""
    order: list[str] = []

    @app.task(name="step")
    def step(name: str) -> str:
        order.append(name)
        return name.upper()

    @app.task(name="boom", max_attempts=1)
    def boom(name: str) -> None:
        order.append(name)
        raise RuntimeError(f"{name} failed")

    @app.task(name="collect")
    def collect(name: str) -> list[str]:
        order.append(name)
        return list(dependency_results())

    return order


def spec(app: Taskward, task: str, name: str):  # type: ignore[no-untyped-def]
    return app.tasks[task].spec(name)


def test_a_dependent_waits_and_is_released_in_the_transaction_that_completes_its_dependency(
    app: Taskward, ran: list[str]
) -> None:
    first = app.tasks["step"].enqueue("first")
    second = app.tasks["step"].options(depends_on=[first]).enqueue("second")
    assert is_awaiting(second) and second.scheduled_at == AWAITING
    with app.connect() as conn:
        (started,) = app.store.claim(conn, "default", "w", 10, app.clock.now())
        assert started.job.id == first.id  # the dependent is never claimable early
    with app.connect() as conn:
        done = started.job.evolve(state=JobState.COMPLETED, finished_at=app.clock.now())
        app.store.write_transitions(conn, [JobCompleted(at=app.clock.now(), job=done)])
        assert app.store.get(conn, second.id).state is JobState.AVAILABLE  # type: ignore[union-attr]
    assert app.get_job(second.id).state is JobState.AVAILABLE


def test_group_then_runs_after_all_of_the_group_and_reads_their_results(
    app: Taskward, ran: list[str]
) -> None:
    run = group(*(spec(app, "step", n) for n in "abc")).then(spec(app, "collect", "d")).enqueue(app)
    assert [run[s].state for s in ("step", "step-2", "step-3", "collect")] == [
        JobState.AVAILABLE
    ] * 3 + [JobState.SCHEDULED]
    drain(app)
    assert sorted(ran[:3]) == ["a", "b", "c"] and ran[3] == "d"
    assert app.get_job(run["collect"].id).result == ["A", "B", "C"]
    assert app.workflows.results_of(run["collect"]) == ["A", "B", "C"]


def test_a_chain_runs_its_steps_one_after_another(app: Taskward, ran: list[str]) -> None:
    chain(
        spec(app, "step", "one"),
        group(spec(app, "step", "two"), spec(app, "step", "three")),
        spec(app, "step", "four"),
    ).enqueue(app)
    drain(app)
    assert ran[0] == "one" and sorted(ran[1:3]) == ["three", "two"] and ran[3] == "four"


def diamond(app: Taskward, policy: str) -> dict[str, uuid.UUID]:
    wf = (
        Workflow()
        .add("top", spec(app, "step", "top"))
        .add("left", spec(app, "step", "left"), after=["top"])
        .add("right", spec(app, "boom", "right"), after=["top"])
        .add(
            "bottom",
            spec(app, "collect", "bottom"),
            after=["left", "right"],
            on_dependency_failure=policy,
        )
        .add("after", spec(app, "step", "after"), after=["bottom"])
    )
    run = wf.enqueue(app)
    return {name: job.id for name, job in run.jobs.items()}


def test_a_diamond_with_a_failing_branch_cancels_what_depends_on_it(
    app: Taskward, ran: list[str]
) -> None:
    ids = diamond(app, "cancel")
    drain(app)
    assert "bottom" not in ran and "after" not in ran
    states = {name: app.get_job(i).state for name, i in ids.items()}
    assert states == {
        "top": JobState.COMPLETED,
        "left": JobState.COMPLETED,
        "right": JobState.DISCARDED,
        "bottom": JobState.CANCELLED,
        "after": JobState.CANCELLED,
    }
    (cancelled,) = [e for e in app.job_events(ids["bottom"]) if e["name"].endswith("cancelled")]
    assert cancelled["data"]["reason"] == f"dependency {ids['right']} was discarded"
    view = app.workflows.get(app.get_job(ids["top"]).meta["workflow"])
    assert view.finished and view.counts == {"completed": 2, "discarded": 1, "cancelled": 2}


def test_a_diamond_with_a_failing_branch_runs_anyway_under_the_run_policy(
    app: Taskward, ran: list[str]
) -> None:
    ids = diamond(app, "run")
    drain(app)
    assert ran[-2:] == ["bottom", "after"]
    assert app.get_job(ids["bottom"]).result == ["LEFT", None]
    assert app.get_job(ids["after"]).state is JobState.COMPLETED


def test_the_workflow_shows_every_job_and_what_it_waits_for(app: Taskward, ran: list[str]) -> None:
    ids = diamond(app, "cancel")
    view = app.workflows.get(app.get_job(ids["top"]).meta["workflow"])
    assert [s.step for s in view.steps] == ["top", "left", "right", "bottom", "after"]
    assert view["bottom"].depends_on == (ids["left"], ids["right"])
    assert view["bottom"].waiting_on == (ids["left"], ids["right"])
    assert view["top"].waiting_on == () and view["top"].job.state is JobState.AVAILABLE
    assert app.workflows.of(ids["after"]) == view
    assert app.workflows.of(app.tasks["step"].enqueue("alone")) is None
    with pytest.raises(WorkflowNotFoundError):
        app.workflows.get(uuid.uuid4())


def test_cycles_are_refused_before_anything_is_written(app: Taskward, ran: list[str]) -> None:
    wf = (
        Workflow()
        .add("extract", spec(app, "step", "e"))
        .add("load", spec(app, "step", "l"), after=["extract", "report"])
        .add("report", spec(app, "step", "r"), after=["load"])
    )
    with pytest.raises(DependencyCycleError, match=r"cycle: .*(load → report|report → load)"):
        wf.enqueue(app)
    assert isinstance(DependencyCycleError("x", "y"), InvalidJobError)
    assert count_rows(app) == 0


def test_depending_on_finished_jobs_releases_or_cancels_at_once(
    app: Taskward, ran: list[str]
) -> None:
    ok, bad = app.tasks["step"].enqueue("ok"), app.tasks["boom"].enqueue("bad")
    drain(app)
    runs = app.tasks["step"].options(depends_on=[ok.id]).enqueue("runs")
    cancelled = app.tasks["step"].options(depends_on=[str(ok.id), bad]).enqueue("cancelled")
    anyway = app.tasks["step"].options(depends_on=[bad], on_dependency_failure="run").enqueue("x")
    assert runs.state is JobState.AVAILABLE
    assert cancelled.state is JobState.CANCELLED
    assert anyway.state is JobState.AVAILABLE
    assert app.workflows.of(runs) == app.workflows.of(ok)  # joined the first dependency's


def test_bad_dependencies_are_refused_and_nothing_is_written(app: Taskward, ran: list[str]) -> None:
    step = app.tasks["step"]
    with pytest.raises(InvalidJobError, match="no job with id"):
        step.options(depends_on=[uuid.uuid4()]).enqueue("x")
    with pytest.raises(InvalidJobError, match="not a job"):
        step.options(depends_on=["nope"]).enqueue("x")
    with pytest.raises(InvalidJobError, match="not in the same call"):
        step.options(depends_on=[step.spec("elsewhere")]).enqueue("x")
    with pytest.raises(InvalidJobError, match="cannot also have at= or in_="):
        step.options(depends_on=[step.enqueue("a")], in_=5).enqueue("x")
    with pytest.raises(InvalidJobError, match="on_dependency_failure"):
        step.options(depends_on=[step.enqueue("b")], on_dependency_failure="ignore").enqueue("x")
    assert count_rows(app) == 2 and count_rows(app, schema.job_dependencies) == 0


def test_cancelling_a_waiting_job_cancels_its_dependents(app: Taskward, ran: list[str]) -> None:
    run = chain(*(spec(app, "step", n) for n in ("a", "b", "c"))).enqueue(app)
    app.cancel(run["step"].id)
    assert {app.get_job(j.id).state for j in run.jobs.values()} == {JobState.CANCELLED}
    drain(app)
    assert ran == []


def test_dependencies_enqueued_in_a_rolled_back_transaction_never_existed(
    app: Taskward, ran: list[str]
) -> None:
    def enqueue_then_fail() -> None:
        with app.connect() as conn:
            chain(spec(app, "step", "a"), spec(app, "step", "b")).enqueue(app, connection=conn)
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        enqueue_then_fail()
    assert count_rows(app) == 0 and count_rows(app, schema.workflow_jobs) == 0
