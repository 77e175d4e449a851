"""The tour's tasks. `taskward worker --app tasks:app` runs them."""

import asyncio
import sys

from taskward.core import Exponential, Taskward

# The CLI and this app meet in one database: $TASKWARD_DATABASE_URL, else
# sqlite:///.taskward/taskward.db (every taskward command's default too).
app = Taskward()


@app.task(queue="emails", max_attempts=5, backoff=Exponential(base=2, cap=300))
def send_welcome(address: str) -> str:
    # One write per line: handlers run in several threads at once.
    sys.stdout.write(f"sending a welcome email to {address}\n")
    sys.stdout.flush()
    return f"welcome sent to {address}"


@app.task  # async handlers run on the worker's event loop, sync ones in a thread pool
async def resize(image: str, width: int = 200) -> dict[str, object]:
    await asyncio.sleep(0.01)
    return {"image": image, "width": width}
