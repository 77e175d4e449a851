"""Send a campaign of 10,000 emails under the rate limit, then its digest: `python run.py`."""

import sys
import time
import uuid
from pathlib import Path

from taskward.core.testing import drain
from taskward.ops.config import load_settings
from taskward.ops.config.apply import open_app

config = load_settings(Path(__file__).with_name("taskward.toml"))
app = open_app(config, migrate=True)  # imports campaign.py ([app] module), adds the limit

import campaign  # noqa: E402 - the module open_app just imported

count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
name = f"spring-{uuid.uuid4().hex[:6]}"
began = time.monotonic()
everyone = campaign.addresses(count)
for start in range(0, count, 1000):  # bulk inserts: one round trip per 1,000 sends
    campaign.send.enqueue_many([(name, a) for a in everyone[start : start + 1000]])


# Run the queue until every send is done; jobs held by the limit wait their turn.
while app.list_jobs(queue="emails", state="available", limit=1):
    drain(app, {"emails": 50})
sent = time.monotonic() - began
job = campaign.digest.enqueue(name)
drain(app, ["default"])
print(f"{count} sends in {sent:.1f} s ({count / sent:.0f}/s, limit 2500/s)")
print("digest:", app.get_job(job.id).result)
