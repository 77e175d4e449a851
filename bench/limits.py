"""What limits cost: ``rate_limit_overhead_pct``.

The no-op throughput of ``throughput`` with a rate limit and a concurrency cap
on the bench queue, against none, in the same run (alternating, medians
compared). The limits are set far above what the machine can do, so nothing is
ever held: what is measured is the bookkeeping every claim pays once limits are
on (locking the limit's row, counting executing jobs, writing the bucket).
"""

from __future__ import annotations

from bench.databases import Databases
from bench.results import record
from bench.tasks import QUEUE, make_app
from bench.throughput import compare
from taskward.core import Taskward
from taskward.core.limits import Limit, Rate


def limited_app(url: str) -> Taskward:
    """The bench app with limits on (used by the worker subprocesses)."""
    app = make_app(url)
    app.limits.add(Limit(queue=QUEUE, rate=Rate(10_000_000), concurrency=1_000_000))
    return app


def run(dbs: Databases) -> None:
    base, limited = compare(dbs, f"{__name__}:limited_app", rounds=5)
    record("process_limited_jobs_per_s", dbs.dialect, limited, "jobs/s")
    record("rate_limit_overhead_pct", dbs.dialect, 100 * (base - limited) / base, "%")
