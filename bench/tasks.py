"""The benchmark's tasks: no-op handlers (async and sync) and a pick-up probe.

Worker subprocesses import this module to build the same app as the runner.
"""

from __future__ import annotations

import os
import socket
import time

from taskward.core import Taskward
from taskward.core.retention import RetentionPolicy

QUEUE = "bench"
NOOP_ASYNC = "bench.noop_async"
NOOP_SYNC = "bench.noop_sync"
PROBE = "bench.probe"


def make_app(url: str) -> Taskward:
    # The leader's retention pass runs every 60 s by default; the prune bench asks sooner.
    interval = float(os.environ.get("TASKWARD_BENCH_PRUNE_INTERVAL", "60"))
    app = Taskward(url, retention=RetentionPolicy(interval=interval))

    @app.task(name=NOOP_ASYNC, queue=QUEUE)
    async def noop_async(n: int) -> None:
        """Nothing: what is left is the queue's own cost per job."""

    @app.task(name=NOOP_SYNC, queue=QUEUE)
    def noop_sync(n: int) -> None:
        """Nothing, on the worker's thread pool."""

    @app.task(name=PROBE, queue=QUEUE)
    async def probe(port: int, seq: int) -> None:
        """Tell the runner, over loopback UDP, the moment this handler started."""
        started = time.time()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(f"{seq} {started!r}".encode(), ("127.0.0.1", port))

    return app
