"""Token buckets in the database: one row per (limit, key), read and written under a lock.

Each limit has a lock row (key ``""``); a claim that may start jobs under the
limit locks it first (a row lock on PostgreSQL, the ``BEGIN IMMEDIATE`` write
lock on SQLite), so claims on every worker of every host take tokens one at a
time. A missing bucket row is a full bucket, which is why idle ones can be pruned.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from taskward.core import schema
from taskward.core.limits.spec import Rate
from taskward.core.store import SqlStore

B = schema.limit_buckets
LOCK = ""


@dataclass(slots=True)
class Bucket:
    tokens: float
    #: When ``tokens`` was true; never moves back, whatever clock a claim read.
    at: datetime
    changed: bool = False

    def take(self) -> None:
        self.tokens = max(0.0, self.tokens - 1)
        self.changed = True


def level(tokens: float, updated_at: datetime, now: datetime, rate: Rate) -> Bucket:
    """The bucket at ``now`` that held ``tokens`` at ``updated_at`` (no refill backwards)."""
    elapsed = max(0.0, (now - updated_at).total_seconds())
    return Bucket(min(rate.capacity, tokens + elapsed * rate.per_second), max(now, updated_at))


def ensure_locks(
    store: SqlStore, conn: sa.Connection, full: Mapping[str, float], now: datetime
) -> None:
    """Create the lock rows of the limits ``full`` names (those already there are kept).

    A limit that is not per key keeps its one bucket in its lock row: it starts full.
    """
    rows = [{"name": n, "key": LOCK, "tokens": full[n], "updated_at": now} for n in sorted(full)]
    store.insert_missing(conn, B, rows, ["name", "key"])


def lock(conn: sa.Connection, names: Collection[str]) -> dict[str, tuple[float, datetime]]:
    """Lock the limits ``names`` in name order (two claims cannot deadlock); the tokens and
    time of each lock row found (the bucket of a limit that is not per key)."""
    stmt = (
        sa.select(B.c.name, B.c.tokens, B.c.updated_at)
        .where(B.c.key == LOCK, B.c.name.in_(sorted(names)))
        .order_by(B.c.name)
        .with_for_update()
    )
    return {name: (tokens, at) for name, tokens, at in conn.execute(stmt)}


def read(
    conn: sa.Connection,
    wanted: Mapping[str, Collection[str]],
    rates: Mapping[str, Rate],
    now: datetime,
) -> dict[tuple[str, str], Bucket]:
    """The buckets of ``wanted`` (limit name → keys), refilled up to ``now``."""
    buckets = {
        (name, key): Bucket(rates[name].capacity, now)
        for name, keys in wanted.items()
        for key in keys
    }
    for name, keys in wanted.items():
        stmt = sa.select(B.c.key, B.c.tokens, B.c.updated_at).where(
            B.c.name == name, B.c.key.in_(sorted(keys))
        )
        for key, tokens, updated_at in conn.execute(stmt):
            buckets[(name, key)] = level(tokens, updated_at, now, rates[name])
    return buckets


def write(store: SqlStore, conn: sa.Connection, buckets: Mapping[tuple[str, str], Bucket]) -> None:
    rows = [
        {"name": name, "key": key, "tokens": b.tokens, "updated_at": b.at}
        for (name, key), b in buckets.items()
        if b.changed
    ]
    if rows:
        store.upsert_rows(conn, B, rows, ["name", "key"])


def prune(conn: sa.Connection, name: str, idle_before: datetime) -> int:
    """Delete buckets of ``name`` untouched since they would have refilled (they are full)."""
    stmt = B.delete().where(B.c.name == name, B.c.key != LOCK, B.c.updated_at <= idle_before)
    return int(conn.execute(stmt).rowcount or 0)
