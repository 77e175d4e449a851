"""``taskward demo`` (what ``make run`` runs): a worker on SQLite, every lifecycle event shown.

Stdout carries one JSON object per lifecycle event; human notes go to stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sys
import uuid
from collections import Counter
from typing import Annotated

import typer

from taskward.core import Taskward, Worker
from taskward.core.states import FINISHED
from taskward.ops.cli._common import configure_logging, serve
from taskward.ops.demo_tasks import DemoTasks, register
from taskward.ops.eventlog import JsonLines
from taskward.ops.urls import DEMO_URL, prepare_sqlite

log = logging.getLogger("taskward.ops.demo")


def demo(
    database: Annotated[
        str, typer.Option("--database", "-d", help="Where the demo's jobs live.")
    ] = DEMO_URL,
    once: Annotated[
        bool, typer.Option("--once", help="Enqueue one batch, run it to the end, exit.")
    ] = False,
    every: Annotated[
        float, typer.Option(min=0.1, help="Seconds between new jobs while running.")
    ] = 2.0,
) -> None:
    """Run example jobs that complete, retry, time out, fail and cancel; Ctrl-C stops."""
    configure_logging()
    prepare_sqlite(database, create=True)
    with contextlib.closing(Taskward(database)) as app:
        app.migrate()
        tasks = register(app)
        JsonLines(sys.stdout).attach(app)
        queues = dict.fromkeys(sorted({t.policy.queue for t in app.tasks.values()}), 4)
        worker = app.worker(
            queues, poll_interval=0.2, stage_interval=0.2, heartbeat_interval=1.0, shutdown_grace=5
        )
        log.info("demo on %s; %s", app.url, "one batch" if once else "Ctrl-C stops it")
        asyncio.run(_serve(app, worker, tasks, None if once else every))
        app.bus.flush()


async def _serve(app: Taskward, worker: Worker, tasks: DemoTasks, every: float | None) -> None:
    """Run the worker; add a few jobs every ``every`` seconds, or (None) stop after one batch."""
    first = await app.enqueue_many_async(tasks.batch())
    if every is None:
        helper = asyncio.create_task(_stop_when_finished(app, worker, [j.id for j in first]))
    else:
        helper = asyncio.create_task(_produce(app, tasks, every))
    try:
        await serve(worker)
    finally:
        helper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await helper


async def _produce(app: Taskward, tasks: DemoTasks, every: float) -> None:
    rng = random.Random()
    while True:
        await asyncio.sleep(every)
        try:
            await app.enqueue_many_async(tasks.a_few(rng))
        except Exception as exc:  # the demo keeps going through a database hiccup
            log.warning("could not enqueue more demo jobs: %s", exc)


async def _stop_when_finished(app: Taskward, worker: Worker, ids: list[uuid.UUID]) -> None:
    while True:
        await asyncio.sleep(0.1)
        jobs = await asyncio.to_thread(lambda: [app.get_job(i) for i in ids])
        if all(job.state in FINISHED for job in jobs):
            states = Counter(job.state.value for job in jobs)
            log.info("batch done: %s", ", ".join(f"{n} {s}" for s, n in sorted(states.items())))
            worker.request_stop()
            return
