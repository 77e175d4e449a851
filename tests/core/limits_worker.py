"""A worker process for the limit tests: ``python -m tests.core.limits_worker URL``.

Every process builds the same app: the same tasks and the same limits. The
handlers record their own start (and end) times as their results, so the test
measures what actually ran, not what the database says.
"""

from __future__ import annotations

import sys
import threading
import time

from taskward.core import Taskward
from taskward.core.limits import Limit, Rate

PACED, CAPPED = "limits.paced", "limits.capped"
RATE = Rate(50, per=1.0, burst=10)
CAP = 2


def build_app(url: str) -> Taskward:
    app = Taskward(url)

    @app.task(name=PACED, queue="paced", limit=Limit(rate=RATE))
    def paced(n: int) -> float:
        return time.time()

    @app.task(name=CAPPED, queue="capped", limit=Limit(concurrency=CAP, by="customer"))
    def capped(customer: str, n: int) -> list[float]:
        started = time.time()
        threading.Event().wait(0.02)  # a little work, so runs overlap
        return [started, time.time()]

    return app


def main() -> None:
    app = build_app(sys.argv[1])
    app.worker(
        {"paced": 20, "capped": 10},
        poll_interval=0.05,
        heartbeat_interval=0.2,
        stage_interval=0.2,
    ).run_sync()


if __name__ == "__main__":
    main()
