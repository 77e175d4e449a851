"""Events: subscribe to the lifecycle spine, and read a job's durable outbox.

Runs on its own: `python events.py` (uses $TASKWARD_DATABASE_URL or a temporary SQLite file).
"""

import os
import tempfile

from taskward.core import Taskward
from taskward.core.events import Event, JobDiscarded
from taskward.core.testing import drain

url = os.environ.get("TASKWARD_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/events.db"
app = Taskward(url)
app.migrate()


@app.task(name="charge", max_attempts=2, backoff=lambda attempt: 0)
def charge(order: int) -> None:
    raise RuntimeError(f"card declined for order {order}")


# A subscriber runs on its own thread behind a bounded queue:
# if it raises or blocks, no job is failed or slowed.
def page_someone(event: Event) -> None:
    assert isinstance(event, JobDiscarded)
    print("ALERT:", event.job.task, "gave up:", event.error.message if event.error else "")


app.bus.subscribe(page_someone, kinds=[JobDiscarded])

job = charge.enqueue(42)
drain(app)
app.bus.flush()  # wait for subscribers (tests and scripts only)

# The same events, written in the job's own transactions: the outbox others tail.
for row in app.job_events(job.id):
    print(row["name"], row["state"], f"attempt={row['attempt']}")
