"""Wake-ups: how an idle worker learns at once that there is work (or a cancellation).

Dialect-specific, so it stays behind the store: a worker calls ``store.listen``.

PostgreSQL: ``LISTEN`` on one channel; inserts and stagers ``NOTIFY`` in the
same transaction, so the message arrives just after commit. SQLite: other
processes' commits are seen by polling ``PRAGMA data_version`` (a counter read
that takes no lock) every few milliseconds. In-process enqueues wake workers
directly. Polling at ``poll_interval`` stays as the safety net.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import uuid
from collections.abc import Callable

import sqlalchemy as sa

from taskward.core.db import timeout_params
from taskward.core.store._pgsql import CANCEL_PREFIX, QUEUE_PREFIX, WAKEUP_CHANNEL

log = logging.getLogger("taskward.core.worker")

#: Where a wake-up goes: the queues with work (``None``: every queue), or a job to cancel.

OnQueues = Callable[[set[str] | None], None]
OnCancel = Callable[[uuid.UUID], object]


async def listen_postgres(
    url: sa.URL,
    on_queues: OnQueues,
    on_cancel: OnCancel,
    stopping: asyncio.Event,
    on_listening: Callable[[], object] = lambda: None,
) -> None:
    """LISTEN until ``stopping``; reconnect with backoff.

    Notifications sent while we were not listening are lost, so after every
    (re)connect every queue is woken and ``on_listening`` re-checks cancellations.
    """
    import psycopg

    url, params = timeout_params(url)  # a hung server must not hang the reconnect
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    delay = 0.2
    while not stopping.is_set():
        try:
            async with await psycopg.AsyncConnection.connect(
                conninfo, autocommit=True, **params
            ) as conn:
                await conn.execute(f"LISTEN {WAKEUP_CHANNEL}")
                if delay > 0.2:
                    log.info("wake-up listener reconnected")
                delay = 0.2
                on_queues(None)
                on_listening()
                async for note in conn.notifies():
                    _dispatch(note.payload, on_queues, on_cancel)
                    if stopping.is_set():
                        return
        except (psycopg.Error, OSError) as exc:
            if stopping.is_set():
                return
            log.warning(
                "wake-up listener lost its connection (%s); reconnecting in %.1fs",
                str(exc).strip().splitlines()[0] if str(exc) else type(exc).__name__,
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def _dispatch(payload: str, on_queues: OnQueues, on_cancel: OnCancel) -> None:
    if payload.startswith(QUEUE_PREFIX):
        on_queues({payload[len(QUEUE_PREFIX) :]})
    elif payload.startswith(CANCEL_PREFIX):
        try:
            on_cancel(uuid.UUID(payload[len(CANCEL_PREFIX) :]))
        except ValueError:
            log.warning("ignoring malformed cancel notification %r", payload)


async def watch_sqlite(
    path: str, on_queues: OnQueues, stopping: asyncio.Event, interval: float = 0.005
) -> None:
    """Wake on any commit by another connection to the same SQLite file."""
    conn = sqlite3.connect(path, timeout=0.1, check_same_thread=False, isolation_level=None)
    try:
        last = None
        while not stopping.is_set():
            try:
                version = conn.execute("PRAGMA data_version").fetchone()[0]
            except sqlite3.Error:
                version = last
            if last is not None and version != last:
                on_queues(None)
            last = version
            await asyncio.sleep(interval)
    finally:
        conn.close()
