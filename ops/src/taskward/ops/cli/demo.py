"""The demo (what ``make run`` runs as ``taskward up --demo``): example jobs that complete,
retry, time out, fail and cancel themselves, on the default database.

``taskward demo`` is the same as ``taskward up --demo``.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Annotated

import typer

from taskward.ops.cli._options import AppDatabase
from taskward.ops.cli.worker import LogEvents

if TYPE_CHECKING:
    from taskward.core import Taskward, Worker
    from taskward.ops.cli._run import Helper

log = logging.getLogger("taskward.ops.demo")


def demo(
    database: AppDatabase = None,
    once: Annotated[
        bool, typer.Option("--once", help="Enqueue one batch, run it to the end, exit.")
    ] = False,
    every: Annotated[
        float, typer.Option(min=0.1, help="Seconds between new jobs while running.")
    ] = 2.0,
    log_events: LogEvents = False,
    metrics: Annotated[bool, typer.Option(help="Serve Prometheus /metrics.")] = True,
    metrics_port: Annotated[int, typer.Option(min=0, max=65535, help="0: any free port.")] = 9464,
) -> None:
    """The same as `taskward up --demo`: example jobs that end every way a job can."""
    from taskward.ops.cli.up import up

    up(
        demo=True,
        once=once,
        every=every,
        database=database,
        log_events=log_events,
        metrics=metrics,
        metrics_port=metrics_port,
    )


def demo_app(url: str, *, once: bool, every: float) -> tuple[Taskward, Helper]:
    """An app on ``url`` with the demo tasks, and the helper that feeds it jobs."""
    import asyncio
    import random

    from taskward.core import Taskward
    from taskward.ops.demo_tasks import register

    app = Taskward(url)
    tasks = register(app)

    async def feed(worker: Worker) -> None:
        first = await app.enqueue_many_async(tasks.batch())
        log.info("demo on %s; %s", app.url, "one batch" if once else "Ctrl-C stops it")
        if once:
            await _stop_when_finished(app, worker, [j.id for j in first])
            return
        rng = random.Random()
        while True:
            await asyncio.sleep(every)
            try:
                await app.enqueue_many_async(tasks.a_few(rng))
            except Exception as exc:  # the demo keeps going through a database hiccup
                log.warning("could not enqueue more demo jobs: %s", exc)

    return app, feed


async def _stop_when_finished(app: Taskward, worker: Worker, ids: list[uuid.UUID]) -> None:
    import asyncio
    from collections import Counter

    from taskward.core.states import FINISHED

    while True:
        await asyncio.sleep(0.1)
        jobs = await asyncio.to_thread(lambda: [app.get_job(i) for i in ids])
        if all(job.state in FINISHED for job in jobs):
            states = Counter(job.state.value for job in jobs)
            log.info("batch done: %s", ", ".join(f"{n} {s}" for s, n in sorted(states.items())))
            worker.request_stop()
            return
