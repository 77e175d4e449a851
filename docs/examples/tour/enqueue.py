"""Enqueue from Python: one job, many at once, later, in your transaction, from async code."""

import asyncio
import uuid

import sqlalchemy as sa
from tasks import app, resize, send_welcome

from taskward.core import JobNotFoundError

# One job. You get back a snapshot of the row: id, state, queue, ...
job = send_welcome.enqueue("ada@example.com")
print("enqueued", job.task, job.state)

# Many jobs in one round trip: an args tuple or a kwargs dict per job.
jobs = resize.enqueue_many([("cat.png",), {"image": "dog.png", "width": 64}])
print("bulk", len(jobs))

# Later: in_= seconds from now (or at= an aware datetime), with per-call options.
later = send_welcome.options(in_=3600, priority=1).enqueue("grace@example.com")
print("delayed", later.state)

# In your own transaction: the job exists only if the transaction commits.
signups = sa.Table("signups", sa.MetaData(), sa.Column("email", sa.String, primary_key=True))
signups.create(app.engine, checkfirst=True)
email = f"linus-{uuid.uuid4().hex[:8]}@example.com"  # a new sign-up on every run
with app.engine.begin() as conn:
    conn.execute(signups.insert().values(email=email))
    send_welcome.options(connection=conn).enqueue(email)
try:
    with app.engine.begin() as conn:
        ghost = send_welcome.options(connection=conn).enqueue("nobody@example.com")
        raise RuntimeError("sign-up failed")  # rolls back: that job never existed
except RuntimeError:
    pass
try:
    app.get_job(ghost.id)
except JobNotFoundError:
    print("rolled back: that job never existed")


# From async code, without blocking the event loop.
async def main() -> None:
    job = await resize.enqueue_async("bird.png", width=32)
    print("async", job.state)


asyncio.run(main())
