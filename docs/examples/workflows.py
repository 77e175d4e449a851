"""Workflows: jobs that wait for other jobs, groups with a barrier, chains, fan-out.

Runs on its own: `python workflows.py` (uses $TASKWARD_DATABASE_URL or a temporary SQLite file).
"""

import os
import tempfile

from taskward.core import Taskward
from taskward.core.errors import DependencyCycleError
from taskward.core.testing import drain
from taskward.core.workflows import (
    Workflow,
    chain,
    dependency_results,
    group,
    spawn,
    spawned_results,
)

url = os.environ.get("TASKWARD_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/workflows.db"
app = Taskward(url)
app.migrate()


@app.task(name="fetch")
def fetch(source: str) -> int:
    return len(source)


@app.task(name="merge")
def merge() -> int:
    return sum(dependency_results())  # results of what this job waited for, in order


@app.task(name="publish", max_attempts=1)
def publish(where: str) -> str:
    if where == "ftp":
        raise ConnectionError("ftp is down")
    return f"published to {where}"


@app.task(name="notify")
def notify() -> str:
    return "done"


@app.task(name="resize")
def resize(n: int) -> int:
    return n * 10


@app.task(name="fan_out")
def fan_out(count: int) -> None:
    spawn(*(resize.spec(n) for n in range(count)))  # whoever waits for me waits for them


@app.task(name="total")
def total() -> int:
    return sum(spawned_results())


# A barrier: merge runs once all three fetches completed.
run = group(fetch.spec("a"), fetch.spec("bb"), fetch.spec("ccc")).then(merge.spec()).enqueue(app)
# A chain with fan-out: total runs after fan_out *and* every child it spawned.
fanned = chain(fan_out.spec(5), total.spec()).enqueue(app)
# Named steps; a failed dependency cancels what waits for it, unless the step says "run".
release = (
    Workflow()
    .add("web", publish.spec("web"))
    .add("ftp", publish.spec("ftp"))
    .add("announce", notify.spec(), after=["web", "ftp"])
    .add("cleanup", notify.spec(), after=["web", "ftp"], on_dependency_failure="run")
    .enqueue(app)
)
# Plain depends_on works with any job, even one enqueued long before.
later = notify.options(depends_on=[run["merge"]]).enqueue()
waiting_on = app.workflows.get(run.id)["merge"].waiting_on  # the whole workflow is visible
print("merge waits for:", [app.get_job(i).args for i in waiting_on])

drain(app)
print("merge:", app.get_job(run["merge"].id).result)
print("total:", app.get_job(fanned["total"].id).result)
for step in app.workflows.get(release.id).steps:
    print(step.step, step.job.state)
print("depends_on:", app.get_job(later.id).state)
cyclic = Workflow().add("a", notify.spec(), after=["b"]).add("b", notify.spec(), after=["a"])
try:
    cyclic.enqueue(app)
except DependencyCycleError as exc:  # an InvalidJobError: nothing was written
    print(exc)
