"""Enqueue from Python: one job, many at once, later, in your transaction, from async code."""

import asyncio

import sqlalchemy as sa
from tasks import app, resize, send_welcome

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
with app.engine.begin() as conn:
    conn.execute(signups.insert().values(email="linus@example.com"))
    send_welcome.options(connection=conn).enqueue("linus@example.com")
try:
    with app.engine.begin() as conn:
        send_welcome.options(connection=conn).enqueue("nobody@example.com")
        raise RuntimeError("sign-up failed")  # rolls back: that job never existed
except RuntimeError:
    pass
print("welcome jobs", len(app.list_jobs(task=send_welcome.name)))


# From async code, without blocking the event loop.
async def main() -> None:
    job = await resize.enqueue_async("bird.png", width=32)
    print("async", job.state)


asyncio.run(main())
