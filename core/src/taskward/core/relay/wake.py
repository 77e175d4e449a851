"""How a reader that has caught up waits for more: ``LISTEN`` on PostgreSQL, polling on SQLite.

The outbox's trigger ``NOTIFY``\\ s ``taskward_events`` when events are written,
so a PostgreSQL reader wakes as they commit. A wait still ends after
``timeout``: events can become readable without a notification of their own
(an older transaction that held the read horizon back ends without writing
events), and a dropped connection is noticed only by trying again. SQLite
readers look at ``PRAGMA data_version`` (a counter read that takes no lock),
which moves whenever another connection commits.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from typing import Any, Protocol

import sqlalchemy as sa

log = logging.getLogger("taskward.core.relay")
CHANNEL = "taskward_events"
SQLITE_POLL = 0.01


class Wake(Protocol):
    def wait(self, timeout: float) -> None:
        """Return when new events may have been committed, or after ``timeout`` seconds."""
        ...

    def close(self) -> None: ...


def wake_for(engine: sa.Engine) -> Wake:
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return Listen(url.set(drivername="postgresql").render_as_string(hide_password=False))
    if url.database and url.database != ":memory:":
        return DataVersion(url.database)
    return Sleep()


class Sleep:
    def wait(self, timeout: float) -> None:
        time.sleep(timeout)

    def close(self) -> None:
        pass


class Listen:
    """A connection of its own, ``LISTEN``\\ ing; reopened after an error."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.conn: Any = None

    def wait(self, timeout: float) -> None:
        import psycopg

        try:
            if self.conn is None:
                self.conn = psycopg.Connection.connect(self.conninfo, autocommit=True)
                self.conn.execute(f"LISTEN {CHANNEL}")
                return  # anything committed before LISTEN was missed: read again now
            for _ in self.conn.notifies(timeout=timeout, stop_after=1):
                pass
        except (psycopg.Error, OSError) as exc:
            log.warning("event relay listener: %s", _first_line(exc))
            self.close()
            time.sleep(timeout)

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
            self.conn = None


class DataVersion:
    """Polls SQLite's ``data_version`` every few milliseconds until it moves."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, timeout=0.1, check_same_thread=False)
        self.seen: int | None = None

    def wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                version = self.conn.execute("PRAGMA data_version").fetchone()[0]
            except sqlite3.Error:
                version = self.seen
            if version != self.seen:  # the first look returns at once: read again
                self.seen = version
                return
            if time.monotonic() >= deadline:
                return
            time.sleep(SQLITE_POLL)

    def close(self) -> None:
        self.conn.close()


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
