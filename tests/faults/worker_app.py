"""A worker process for fault tests: ``python -m tests.faults.worker_app URL WORKER_ID [...]``.

Its one task records a side effect row (job id, attempt) in the same database,
committed on its own before the job settles: so a worker killed between the two
leaves a side effect whose job must be rescued and run again.
"""

from __future__ import annotations

import argparse
import logging
import threading

import sqlalchemy as sa

from taskward.core import Taskward, current_attempt

TASK = "faults.record"
EFFECTS = sa.Table(
    "fault_side_effects",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.String(36), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
)


def build_app(url: str, work_seconds: float = 0.0) -> Taskward:
    """The app every process of a fault test uses: the same task, the same database."""
    app = Taskward(url)

    @app.task(name=TASK, max_attempts=5)
    def record(n: int) -> int:
        job = current_attempt().job
        with app.engine.begin() as conn:
            conn.execute(EFFECTS.insert().values(job_id=str(job.id), attempt=job.attempt))
        if work_seconds:
            threading.Event().wait(work_seconds)  # a little work: be mid-job when killed
        return n

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("worker_id")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--heartbeat", type=float, default=0.2)
    parser.add_argument("--rescue-after", type=float, default=2.0)
    parser.add_argument("--work", type=float, default=0.002)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    app = build_app(args.url, args.work)
    worker = app.worker(
        {"default": args.concurrency},
        worker_id=args.worker_id,
        poll_interval=0.05,
        heartbeat_interval=args.heartbeat,
        rescue_after=args.rescue_after,
        stage_interval=0.1,
        cancel_check_interval=0.5,
        shutdown_grace=5.0,
    )
    worker.run_sync()
    app.close()


if __name__ == "__main__":
    main()
