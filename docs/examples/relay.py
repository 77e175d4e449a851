"""The event relay: read committed events as a named, durable consumer; resume after an id.

Runs on its own: `python relay.py` (uses $TASKWARD_DATABASE_URL or a temporary SQLite file).
"""

import os
import tempfile

from taskward.core import Taskward
from taskward.core.relay import EventReader, EventRelay
from taskward.core.testing import drain

url = os.environ.get("TASKWARD_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/relay.db"
app = Taskward(url)
app.migrate()


@app.task(name="resize")
def resize(width: int) -> int:
    return width // 2


# A named consumer keeps its cursor in the database: any process, on any host, that
# reads as "thumbnails" carries on where the last one acknowledged.
relay = EventRelay(app.engine, "thumbnails", batch=100, start="latest")

for width in (640, 1280):
    resize.enqueue(width)
drain(app)

# Committed events in order, a batch at a time; acknowledge after handling them
# (at least once: a consumer killed before its ack reads the batch again).
while events := relay.read():
    for event in events:
        print(event.name, event.task, event.state, f"attempt={event.attempt}")
    relay.ack(events)

# A live feed resumes after the last event id its client saw (SSE Last-Event-ID).
first_id = EventReader(app.engine).read()[0].id
feed = EventReader(app.engine)
feed.seek(first_id)
print("after", first_id, "come", sum(len(batch) for batch in iter(feed.read, [])), "events")
