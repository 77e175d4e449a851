"""Timeouts and cancellation: of a queued job, and of a running one.

Runs on its own: `python timeouts.py` (uses $TASKWARD_DATABASE_URL or a temporary SQLite file).
"""

import asyncio
import os
import tempfile
import threading
import time

from taskward.core import Taskward, current_attempt
from taskward.core.testing import drain

url = os.environ.get("TASKWARD_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/timeouts.db"
app = Taskward(url)
app.migrate()


# An async handler past its timeout is cancelled; the attempt fails with JobTimeoutError.
@app.task(name="render", timeout=0.2, max_attempts=1)
async def render(page: str) -> str:
    await asyncio.sleep(60)
    return page


# A thread cannot be killed: a sync handler checks `cancelled` to stop early.
@app.task(name="crunch")
def crunch(rows: int) -> int:
    done = 0
    while done < rows and not current_attempt().cancelled:
        time.sleep(0.01)
        done += 1
    return done


job = render.enqueue("home")
drain(app)
job = app.get_job(job.id)
print("render:", job.state, job.errors[0]["type"])

queued = crunch.enqueue(10)
print("cancel a queued job:", app.cancel(queued.id).state)

# Cancel a running job: the worker hears of it (at once on PostgreSQL) and stops it.
worker = app.worker(["default"], poll_interval=0.05, cancel_check_interval=0.05)
thread = threading.Thread(target=asyncio.run, args=(worker.run(),))
thread.start()
running = crunch.enqueue(100_000)
while app.get_job(running.id).state != "executing":
    time.sleep(0.02)
app.cancel(running.id, reason="no longer needed")
while app.get_job(running.id).state == "executing":
    time.sleep(0.02)
worker.request_stop()
thread.join()
print("cancel a running job:", app.get_job(running.id).state)
