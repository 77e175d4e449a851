"""A nightly ETL: extract fans out one transform per partition, merge waits for them all.

`[schedules.nightly-etl]` in taskward.toml fires `etl.nightly` at 02:00 every night (on
the elected leader only, once per fire time even across failovers). It enqueues the
chain extract -> merge; extract spawns the transforms, and merge, which waits for
extract *and everything extract spawned*, combines their results.
"""

import os
import random

from taskward.core import Taskward
from taskward.core.workflows import chain, spawn, spawned_results

app = Taskward(os.environ.get("TASKWARD_DATABASE_URL", "sqlite:///.taskward/etl.db"))
PARTITIONS = 8


@app.task(name="etl.nightly")
def nightly(day: str = "yesterday") -> str:
    run = chain(extract.spec(day), merge.spec(day)).enqueue(app)
    return str(run.id)


@app.task(name="etl.extract")
def extract(day: str) -> int:
    spawn(*(transform.spec(day, p) for p in range(PARTITIONS)))  # merge waits for these too
    return PARTITIONS


@app.task(name="etl.transform", queue="etl", max_attempts=5)
def transform(day: str, partition: int) -> dict[str, int]:
    rows = random.Random(f"{day}/{partition}").randint(1_000, 5_000)
    return {"partition": partition, "rows": rows}


@app.task(name="etl.merge")
def merge(day: str) -> dict[str, int]:
    parts = spawned_results()
    return {"partitions": len(parts), "rows": sum(p["rows"] for p in parts)}
