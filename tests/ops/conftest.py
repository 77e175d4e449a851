"""Running the ``taskward`` command as real subprocesses, against real databases."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from taskward.core import Job, JobState, Taskward

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
CLI = [sys.executable, "-m", "taskward.ops.cli"]
BIN = Path(sys.executable).parent

SHOP = """
import asyncio
import os

from taskward.core import Taskward

app = Taskward(os.environ.get("TASKWARD_DATABASE_URL", "sqlite:///.taskward/taskward.db"))


@app.task(name="shop.add")
def add(a: int, b: int) -> int:
    return a + b


@app.task(name="shop.fail", max_attempts=1)
def fail(message: str) -> None:
    raise ValueError(message)


@app.task(name="shop.hang")
async def hang() -> None:
    await asyncio.sleep(3600)
"""


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a subprocess: no inherited database or app, the venv first on PATH."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("TASKWARD_DATABASE_URL", "TASKWARD_APP")
    }
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def run_cli(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """Poll ``predicate`` every 50 ms until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def wait_for_state(url: str, job_id: uuid.UUID | str, states: set[JobState]) -> Job:
    app = Taskward(url)

    def reached() -> Job | None:
        job = app.get_job(job_id)
        return job if job.state in states else None

    try:
        job: Job = wait_for(reached, f"job {job_id} to reach {sorted(states)}")
        return job
    finally:
        app.close()


def count_rows(url: str, table: str = "taskward_jobs") -> int:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return int(conn.scalar(sa.text(f"SELECT count(*) FROM {table}")) or 0)
    finally:
        engine.dispose()


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a failed command (and that it is one line, no traceback)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("taskward: error: ")
    return lines[0]


@pytest.fixture
def shop_dir(tmp_path: Path) -> Path:
    """A directory holding an app module ``shop`` (``--app shop:app``)."""
    (tmp_path / "shop.py").write_text(SHOP)
    return tmp_path


@pytest.fixture
def empty_postgresql(pg_admin: sa.Engine) -> Iterator[str]:
    """The URL of a new PostgreSQL database with no schema yet."""
    name = f"taskward_e_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield (
        sa.make_url(str(pg_admin.url))
        .set(drivername="postgresql", database=name)
        .render_as_string(hide_password=False)
    )
    with pg_admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class Processes:
    """Long-running subprocesses of one test, stopped by their own pid at teardown."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[str]] = []

    def start(self, argv: list[str], cwd: Path, **env: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=clean_env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.started.append(proc)
        return proc

    def cli(self, *args: str, cwd: Path, **env: str) -> subprocess.Popen[str]:
        return self.start([*CLI, *args], cwd, **env)

    def stop(self, proc: subprocess.Popen[str], sig: signal.Signals) -> tuple[int, str, str]:
        """Send ``sig`` to the process group; its exit code and output."""
        os.killpg(proc.pid, sig)
        out, err = proc.communicate(timeout=60)
        return proc.returncode, out, err

    def close(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()


@pytest.fixture
def processes() -> Iterator[Processes]:
    procs = Processes()
    yield procs
    procs.close()
