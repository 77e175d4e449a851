"""Fixtures for fault tests: worker subprocesses, and a throwaway PostgreSQL cluster that a
test may stop and restart (never the shared server on 5432)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.services import free_port, unavailable

PG_BIN = Path("/usr/lib/postgresql/15/bin")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class WorkerProcess:
    """A ``tests.faults.worker_app`` subprocess, its log kept in a file."""

    worker_id: str
    proc: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(30)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Workers:
    directory: Path
    started: list[WorkerProcess] = field(default_factory=list)

    def start(self, url: str, worker_id: str, *args: str) -> WorkerProcess:
        log = self.directory / f"{worker_id}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.faults.worker_app", url, worker_id, *args],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        worker = WorkerProcess(worker_id, proc, log)
        self.started.append(worker)
        return worker


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    """Start worker subprocesses; any still running at the end are killed."""
    pool = Workers(tmp_path)
    yield pool
    for worker in pool.started:
        if worker.proc.poll() is None:
            worker.proc.kill()
            worker.proc.wait(10)


@dataclass
class Cluster:
    """A PostgreSQL cluster of our own on a free port."""

    directory: Path
    port: int
    run_as: Callable[..., subprocess.CompletedProcess[bytes]]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run_as(
            "pg_ctl", "-D", self.directory / "data", "-l", self.directory / "log", "-w",
            "start", "-o", options,
        )  # fmt: skip

    def stop(self) -> None:
        self.run_as("pg_ctl", "-D", self.directory / "data", "-m", "fast", "-w", "stop")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A throwaway cluster for the whole session; tests may stop and start it."""
    if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
        unavailable(f"PostgreSQL server binaries not found in {PG_BIN} (apt: postgresql-15)")
    if os.geteuid() != 0:
        unavailable("a throwaway PostgreSQL cluster needs root (initdb runs via runuser)")
    directory = Path(tempfile.mkdtemp(prefix="taskward-pg-"))
    directory.chmod(0o755)
    shutil.chown(directory, "postgres", "postgres")

    def run_as(program: str, *args: object) -> subprocess.CompletedProcess[bytes]:
        command = ["runuser", "-u", "postgres", "--", str(PG_BIN / program), *map(str, args)]
        return subprocess.run(command, check=True, capture_output=True, timeout=60)

    cluster = Cluster(directory, free_port(), run_as)
    try:
        run_as(
            "initdb", "-D", directory / "data", "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        cluster.start()
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(directory, ignore_errors=True)
        unavailable(f"could not start a throwaway PostgreSQL cluster: {exc.stderr.decode()}")
    yield cluster
    subprocess.run(
        ["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(directory / "data"),
         "-m", "immediate", "-w", "stop"],
        capture_output=True, timeout=60,
    )  # fmt: skip
    shutil.rmtree(directory, ignore_errors=True)
