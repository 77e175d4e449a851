"""Retries: backoff strategies, exception filters, an on_retry hook, Retry/Snooze/Cancel.

Runs on its own: `python retries.py` (uses $TASKWARD_DATABASE_URL or a temporary SQLite file).
A FakeClock stands in for time, so waiting out a backoff is one call.
"""

import os
import tempfile

from taskward.core import (
    Cancel,
    Constant,
    Exponential,
    FakeClock,
    Fibonacci,
    Linear,
    Retry,
    Snooze,
    Taskward,
)
from taskward.core.testing import drain

url = os.environ.get("TASKWARD_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/retries.db"
clock = FakeClock()
app = Taskward(url, clock=clock)
app.migrate()
calls: dict[str, int] = {}


def note_retry(job, exc):  # on_retry hook: called before each retry is scheduled
    print(f"retrying {job.task} (attempt {job.attempt} failed: {exc})")


@app.task(
    name="fetch_rates",
    max_attempts=5,
    backoff=Exponential(base=1, factor=2, cap=600, jitter=0.1),  # ~1 s, 2 s, 4 s, ... <= 600 s
    retry_on=(ConnectionError, TimeoutError),  # only these are retried ...
    never_retry_on=(PermissionError,),  # ... and this one discards the job at once
    on_retry=note_retry,
)
def fetch_rates(currency: str) -> float:
    calls[currency] = calls.get(currency, 0) + 1
    if currency == "XXX":
        raise PermissionError("API key revoked")
    if calls[currency] < 3:
        raise ConnectionError("rates API unreachable")
    return 1.08


# Other strategies: Linear(step=30), Fibonacci(base=5), Constant(10), or any callable.
other_backoffs = [Linear(step=30), Fibonacci(base=5), Constant(10), lambda attempt: 2**attempt]


@app.task(name="poll_export", max_attempts=3)
def poll_export(export_id: str) -> str:
    calls[export_id] = calls.get(export_id, 0) + 1
    if export_id == "deleted":
        return Cancel("export was deleted")  # ends `cancelled`, no error recorded
    if calls[export_id] == 1:
        return Snooze(30)  # look again in 30 s; does not use up an attempt
    if calls[export_id] == 2:
        raise Retry(in_=120, reason="export still running")  # counts as an attempt
    return "https://example.com/export.csv"


jobs = [
    fetch_rates.enqueue("EUR"),
    fetch_rates.enqueue("XXX"),
    poll_export.enqueue("monthly"),
    poll_export.enqueue("deleted"),
]
for _ in range(4):
    drain(app)  # run every job that is due now ...
    clock.advance(600)  # ... then let the backoffs and snoozes run out
for job in jobs:
    job = app.get_job(job.id)
    errors = [e["type"] for e in job.errors]
    print(job.task, job.args, job.state, f"attempts={job.attempt}", f"errors={errors}")
