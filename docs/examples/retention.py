"""Retention: how long finished jobs are kept, per state and per queue.

Runs on its own: `python retention.py` (uses $TASKWARD_DATABASE_URL or a temporary SQLite file).
"""

import os
import tempfile
from datetime import timedelta

from taskward.core import FakeClock, Taskward
from taskward.core.retention import RetentionPolicy
from taskward.core.testing import drain

url = os.environ.get("TASKWARD_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/retention.db"
clock = FakeClock()
app = Taskward(
    url,
    clock=clock,
    retention=RetentionPolicy(
        discarded=timedelta(days=30),  # completed and cancelled keep their 24 h
        queues={"billing": {"completed": timedelta(days=90)}},  # None: keep for ever
    ),
)
app.migrate()


@app.task(name="ping")
def ping() -> None: ...


@app.task(name="invoice", queue="billing")
def invoice() -> None: ...


ping.enqueue()
invoice.enqueue()
drain(app)
clock.advance(2 * 86400)

# The workers' leader runs this every 60 s; here, once, two days later.
pruned = app.retention.pruner().prune()
print("pruned", pruned.jobs)
print("left", [job.task for job in app.list_jobs()])
