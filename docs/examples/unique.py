"""Unique jobs: never two for the same key, even when enqueued concurrently.

Runs on its own: `python unique.py` (uses $TASKWARD_DATABASE_URL or a temporary SQLite file).
"""

import os
import tempfile

from taskward.core import Taskward, Unique
from taskward.core.testing import drain

url = os.environ.get("TASKWARD_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/unique.db"
app = Taskward(url)
app.migrate()


# At most one unfinished job per user: the key is freed when the job finishes.
@app.task(name="sync_user", unique=Unique(key=lambda user_id, **_: str(user_id)))
def sync_user(user_id: int, full: bool = False) -> None: ...


# At most one job per (args, hour), finished or not.
@app.task(name="send_digest", unique=Unique(window=3600))
def send_digest(team: str) -> None: ...


first = sync_user.enqueue(7)
again = sync_user.enqueue(7, full=True)  # same key: you get the existing job back
print("same job:", first.id == again.id)
drain(app)
after = sync_user.enqueue(7)  # the first one finished, so this is a new job
print("new job after it finished:", after.id != first.id)

digest = send_digest.enqueue("ops")
drain(app)
print("digest again this hour:", send_digest.enqueue("ops").id == digest.id)
print("jobs:", len(app.list_jobs()))
