"""Storage behind one narrow class per dialect, proved by one conformance suite."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from taskward.core.store.postgresql import (
    CANCEL_PREFIX,
    QUEUE_PREFIX,
    WAKEUP_CHANNEL,
    PostgresStore,
)
from taskward.core.store.reads import jobs_where
from taskward.core.store.sql import (
    ClaimLimiter,
    SqlStore,
    StorePlugin,
    TransitionHook,
)
from taskward.core.store.sqlite import SqliteStore

__all__ = [
    "CANCEL_PREFIX",
    "QUEUE_PREFIX",
    "WAKEUP_CHANNEL",
    "ClaimLimiter",
    "PostgresStore",
    "SqlStore",
    "SqliteStore",
    "StorePlugin",
    "TransitionHook",
    "jobs_where",
    "store_for",
]


def store_for(engine: sa.Engine, plugins: Sequence[StorePlugin] = ()) -> SqlStore:
    """The store implementation for ``engine``'s dialect, running ``plugins``' hooks."""
    if engine.dialect.name == "postgresql":
        return PostgresStore(engine, plugins)
    return SqliteStore(engine, plugins)
