"""How a worker process is given over to a worker: SIGTERM and SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable

log = logging.getLogger("taskward.core.worker")
REPEAT_SIGNAL_WINDOW = 1.0  # seconds; see install_signals


def install_signals(
    loop: asyncio.AbstractEventLoop, stop: asyncio.Event, hurry: Callable[[], None]
) -> None:
    """SIGTERM/SIGINT set ``stop`` (a graceful shutdown); a second one calls ``hurry``."""
    first_signal_at: float | None = None

    def on_signal(signum: int) -> None:
        # A second signal skips the grace period, but not one arriving within a second of
        # the first: `uv run` forwards the terminal's Ctrl-C that the worker already got.
        nonlocal first_signal_at
        now = time.monotonic()
        if first_signal_at is not None and now - first_signal_at < REPEAT_SIGNAL_WINDOW:
            return
        if first_signal_at is None:
            first_signal_at = now
            log.info(
                "received %s: finishing running jobs (again to hand them back now)",
                signal.Signals(signum).name,
            )
            stop.set()
        else:
            hurry()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
