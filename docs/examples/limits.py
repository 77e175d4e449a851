"""Rate limits and concurrency caps, shared by every worker; and autoscaling a worker.

Runs on its own: `python limits.py` (uses $TASKWARD_DATABASE_URL or a temporary SQLite file).
A FakeClock stands in for time, so a rate limit's refill is one call.
"""

import os
import tempfile
import threading
import time
from collections import Counter

from taskward.core import FakeClock, Taskward
from taskward.core.events import JobRateLimited
from taskward.core.limits import Limit, Rate
from taskward.core.limits.autoscale import Autoscale
from taskward.core.testing import drain

url = os.environ.get("TASKWARD_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/limits.db"
clock = FakeClock()
app = Taskward(url, clock=clock)
app.migrate()
calls: list[str] = []
running, most, lock = Counter[str](), Counter[str](), threading.Lock()
held: list[str] = []  # each wait is reported once, as a JobRateLimited event
app.bus.subscribe(lambda e: held.append(e.limit), kinds=(JobRateLimited,), name="example")


# 2 calls a second to the partner API, in bursts of at most 2; priority 0 jobs are never held.
@app.task(name="call_partner", priority=5, limit=Limit(rate=Rate(2), bypass_priority=0))
def call_partner(n: int) -> None:
    calls.append(f"partner {n}")


# At most one export per customer at a time, on all workers together.
@app.task(name="export", queue="exports", limit=Limit(concurrency=1, by="customer"))
def export(customer: str, month: int) -> None:
    with lock:
        running[customer] += 1
        most[customer] = max(most[customer], running[customer])
    time.sleep(0.05)
    with lock:
        running[customer] -= 1


# Limits on a whole queue, or on everything, are added the same way.
app.limits.add(Limit(queue="exports", rate=Rate(100, per=60.0)))

call_partner.enqueue_many([(n,) for n in range(5)])
call_partner.options(priority=0).enqueue(99)  # urgent: not held by the rate limit
drain(app, ["default"])
print("now:", sorted(calls))
calls.clear()
clock.advance(1.0)  # two more tokens
drain(app, ["default"])
print("a second later:", sorted(calls))
print("still waiting, none failed:", len(app.list_jobs(state="available")))
app.bus.flush()
print("held by:", sorted(set(held)), len(held), "jobs")

export.enqueue_many([{"customer": c, "month": m} for m in (1, 2, 3) for c in ("acme", "globex")])
drain(app, ["exports"])
print("most exports at once per customer:", sorted(most.items()))

# A worker may let a queue's concurrency follow its backlog: from 2 up to 32 slots.
worker = app.worker({"default": 4}, autoscale={"default": Autoscale(min=2, max=32)})
print("autoscaled start:", worker.runners["default"].limit)
