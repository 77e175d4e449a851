"""A host application's process: ``python -m tests.core.host_gc URL [managed]``.

Prints, as JSON, the cyclic collector's state before ``import taskward.core``,
after building an app, enqueueing a big batch and running a worker to completion,
and what the collector looked like during the batch (from an enqueue hook).
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any


def state() -> dict[str, Any]:
    return {
        "enabled": gc.isenabled(),
        "threshold": list(gc.get_threshold()),
        "frozen": gc.get_freeze_count(),
    }


def main() -> None:
    url, managed = sys.argv[1], sys.argv[2:] == ["managed"]
    before = state()
    import taskward.core
    from taskward.core import JobSpec, Taskward
    from taskward.core.events import JobCompleted

    if managed:
        taskward.core.manage_gc()
    app = Taskward(url)
    during: list[bool] = []

    def watch(jobs: Sequence[Any], insert: Callable[[Sequence[Any]], list[Any]]) -> list[Any]:
        during.append(gc.isenabled())
        return insert(jobs)

    app.enqueue_hooks.append(watch)

    @app.task(name="noop")
    async def noop(n: int) -> None: ...

    app.enqueue_many([JobSpec("noop", (n,)) for n in range(2000)])
    worker = app.worker({"default": 50}, poll_interval=0.05)

    done, completed = threading.Event(), [0]

    def count(event: Any) -> None:
        completed[0] += 1
        if completed[0] == 2000:
            done.set()

    app.bus.subscribe(count, kinds=[JobCompleted])

    async def run() -> None:
        running = asyncio.create_task(worker.run())
        await asyncio.to_thread(done.wait, 60)
        worker.request_stop()
        await running

    asyncio.run(run())
    app.close()
    seen = {"before": before, "during_batch": during, "ran": completed[0], "after": state()}
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
