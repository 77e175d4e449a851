"""Storage behind one narrow class per dialect, proved by one conformance suite."""

from __future__ import annotations

import sqlalchemy as sa

from taskward.core.store.postgresql import (
    CANCEL_PREFIX,
    QUEUE_PREFIX,
    WAKEUP_CHANNEL,
    PostgresStore,
)
from taskward.core.store.sql import SqlStore
from taskward.core.store.sqlite import SqliteStore

__all__ = [
    "CANCEL_PREFIX",
    "QUEUE_PREFIX",
    "WAKEUP_CHANNEL",
    "PostgresStore",
    "SqlStore",
    "SqliteStore",
    "store_for",
]


def store_for(engine: sa.Engine) -> SqlStore:
    """The store implementation for ``engine``'s dialect."""
    if engine.dialect.name == "postgresql":
        return PostgresStore(engine)
    return SqliteStore(engine)
