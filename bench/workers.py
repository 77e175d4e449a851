"""Worker subprocesses: ``python -m bench.workers URL CONCURRENCY`` runs one until SIGTERM."""

from __future__ import annotations

import contextlib
import importlib
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import sqlalchemy as sa

from bench.tasks import QUEUE, make_app
from taskward.core import Taskward, manage_gc, schema

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def running(
    url: str, processes: int = 1, concurrency: int = 100, app_factory: str | None = None
) -> Iterator[None]:
    """Run worker processes on ``url``; wait until each has registered; stop them after.

    ``app_factory`` (``"module:function"``, default :func:`bench.tasks.make_app`) builds
    the workers' app, e.g. an instrumented one.
    """
    extra = [app_factory] if app_factory else []
    with tempfile.TemporaryFile() as log:
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.workers", url, str(concurrency), *extra],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            for _ in range(processes)
        ]
        try:
            _wait_registered(url, procs, log)
            yield
        finally:
            _stop(procs)


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_registered(url: str, procs: list[subprocess.Popen[bytes]], log: IO[bytes]) -> None:
    app = Taskward(url)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            dead = [p for p in procs if p.poll() is not None]
            if dead:
                log.seek(0)
                tail = log.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"a bench worker exited with {dead[0].returncode}:\n{tail}")
            with app.connect() as conn:
                count = conn.scalar(sa.select(sa.func.count()).select_from(schema.workers))
            if count == len(procs):
                return
            time.sleep(0.05)
        raise RuntimeError("bench workers did not register within 60 s")
    finally:
        app.close()


def main() -> None:
    manage_gc()  # a worker process, as `taskward worker` runs one
    url, concurrency = sys.argv[1], int(sys.argv[2])
    factory: Callable[[str], Taskward] = make_app
    if len(sys.argv) > 3:
        module, _, name = sys.argv[3].partition(":")
        factory = getattr(importlib.import_module(module), name)
    app = factory(url)
    app.worker({QUEUE: concurrency}).run_sync()
    app.close()


if __name__ == "__main__":
    main()
