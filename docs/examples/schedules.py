"""Cron schedules: fired by the leader, once per fire time, in the schedule's time zone.

Runs on its own: `python schedules.py` (uses $TASKWARD_DATABASE_URL or a temporary SQLite file).
A FakeClock stands in for time; `app.schedules.tick()` is what the leading worker runs every
second (`taskward worker` does it for you).
"""

import os
import tempfile
from datetime import UTC, datetime

from taskward.core import FakeClock, Taskward
from taskward.core.testing import drain

url = os.environ.get("TASKWARD_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/schedules.db"
clock = FakeClock(datetime(2026, 3, 28, 12, tzinfo=UTC))
app = Taskward(url, clock=clock)
app.migrate()


@app.task(name="report")
def report(kind: str) -> str:
    return f"{kind} report"


@app.task(name="sync_inventory")
def sync_inventory() -> None: ...


# 02:30 every night, Paris time: once a night, daylight-saving changes included.
app.schedules.add("nightly-report", "30 2 * * *", report.spec("nightly"), timezone="Europe/Paris")
# Every 15 minutes; after an outage, make up at most the 2 most recent missed runs.
app.schedules.add("inventory", "*/15 * * * *", sync_inventory, catch_up=2)

for info in app.schedules.list():
    print(info.name, "next:", info.next_fire_at.isoformat())

clock.set(datetime(2026, 3, 29, 1, 31, tzinfo=UTC))  # the night the clocks go forward
fired = app.schedules.tick()
print("fired:", sorted(f"{j.meta['schedule']}@{j.meta['fire_time']}" for j in fired))
print("again:", app.schedules.tick())  # each fire time is enqueued once, whoever ticks

drain(app)
info = app.schedules.get("nightly-report")
print("nightly last fired:", info.last_fire_at.isoformat(), "next:", info.next_fire_at.isoformat())
print("last success:", info.last_success_at.isoformat())

app.schedules.pause("inventory")  # from any process on the same database
clock.set(datetime(2026, 3, 29, 3, 1, tzinfo=UTC))
print("paused fires:", len(app.schedules.tick()))
print("resumed, next:", app.schedules.resume("inventory").next_fire_at.isoformat())
