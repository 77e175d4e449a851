"""Pick-up latency: from an enqueue call in this process to the handler starting in an idle worker.

The worker is another process, so on PostgreSQL it is woken by LISTEN/NOTIFY and
on SQLite by its ``data_version`` watcher, as in production. The probe handler
reports its start time over loopback UDP; both processes read the same clock.
"""

from __future__ import annotations

import random
import socket
import statistics
import time

from bench import workers
from bench.databases import Databases
from bench.results import record
from bench.tasks import PROBE, make_app

WARMUP = 20
SAMPLES = 300


def run(dbs: Databases) -> None:
    latencies, after_commit = measure(dbs.fresh())
    cuts = statistics.quantiles(latencies, n=100)
    for pct in (50, 95, 99):
        record(f"pickup_latency_p{pct}_ms", dbs.dialect, cuts[pct - 1], "ms")
    # The part after the enqueue's commit: wake-up, claim and dispatch in the worker.
    record("pickup_after_commit_p50_ms", dbs.dialect, statistics.median(after_commit), "ms")


def p50(url: str) -> float:
    """The median pick-up latency on ``url`` (ms)."""
    return statistics.median(measure(url)[0])


def measure(url: str) -> tuple[list[float], list[float]]:
    """Pick-up latencies (ms) from the enqueue call, and from its commit."""
    app = make_app(url)
    probe = app.tasks[PROBE]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(10)
        port = sock.getsockname()[1]
        latencies: list[float] = []
        after_commit: list[float] = []
        try:
            with workers.running(url, concurrency=10):
                for seq in range(WARMUP + SAMPLES):
                    time.sleep(random.uniform(0.02, 0.04))  # let the worker settle and go idle
                    sent = time.time()
                    probe.enqueue(port, seq)
                    committed = time.time()
                    started = _receive(sock, seq)
                    if seq >= WARMUP:
                        latencies.append((started - sent) * 1000)
                        after_commit.append((started - committed) * 1000)
        finally:
            app.close()
    return latencies, after_commit


def _receive(sock: socket.socket, seq: int) -> float:
    while True:
        got, at = sock.recv(64).decode().split()
        if int(got) == seq:
            return float(at)
