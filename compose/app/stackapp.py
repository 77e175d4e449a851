"""The app the compose stack runs: a little traffic of every kind the dashboards show.

A schedule enqueues a batch every minute: image resizes that complete, charges of
which every seventh fails until it is discarded, partner calls held back by a rate
limit, and a report on its own queue. Each task logs, so execution logs fill too.
"""

import logging
import os
import random
import time

from taskward.core import Constant, Taskward
from taskward.core.limits import Limit, Rate

log = logging.getLogger("stack")
app = Taskward(os.environ.get("TASKWARD_DATABASE_URL", "sqlite:///.taskward/stack.db"))


@app.task(name="stack.resize")
def resize(image: int) -> int:
    time.sleep(random.uniform(0.01, 0.2))
    log.info("resized image %s", image)
    return image


@app.task(name="stack.charge", max_attempts=2, backoff=Constant(1))
def charge(invoice: int) -> None:
    log.info("charging invoice %s", invoice)
    if invoice % 7 == 0:
        raise ConnectionError(f"payment gateway refused invoice {invoice}")


@app.task(name="stack.call_partner", queue="partners", limit=Limit(rate=Rate(2)))
def call_partner(n: int) -> None:
    log.info("partner call %s", n)


@app.task(name="stack.report", queue="reports")
def report(day: int) -> str:
    log.info("report for day %s", day)
    return f"report {day}"


@app.task(name="stack.traffic")
def traffic(size: int = 40) -> None:
    """One batch of every kind of job."""
    enqueue_batch(size)


def enqueue_batch(size: int) -> None:
    resize.enqueue_many([(n,) for n in range(size)])
    charge.enqueue_many([(n,) for n in range(1, size // 2 + 1)])
    call_partner.enqueue_many([(n,) for n in range(size // 4)])
    report.enqueue(size)


app.schedules.add("traffic", "* * * * *", traffic)
