"""Run tonight's ETL now, as the schedule would at 02:00: `python run.py`."""

from pathlib import Path

from taskward.core.testing import drain
from taskward.ops.config import load_settings
from taskward.ops.config.apply import open_app

config = load_settings(Path(__file__).with_name("taskward.toml"))
app = open_app(config, migrate=True)  # imports etl.py ([app] module), adds the schedule

import etl  # noqa: E402 - the module open_app just imported

print("scheduled:", ", ".join(f"{s.name} ({s.cron}, {s.timezone})" for s in app.schedules.list()))
fired = etl.nightly.enqueue("2026-12-04")  # what the schedule enqueues at 02:00
drain(app)
run_id = app.get_job(fired.id).result
steps = app.workflows.get(run_id)
for step in steps.steps:  # spawned jobs have no step name: show their task and arguments
    print(f"{step.step or step.job.task + str(list(step.job.args))}: {step.job.state.value}")
merged = next(s.job for s in steps.steps if s.step == "merge")
print("merged:", app.get_job(merged.id).result)
