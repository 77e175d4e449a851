"""Engines for the two dialects, tuned for a queue.

SQLite: WAL, ``synchronous=NORMAL``, a busy timeout, and ``BEGIN IMMEDIATE`` so a
transaction takes the write lock up front instead of failing on upgrade when
several worker processes share one file. PostgreSQL: psycopg 3; a pooled
connection idle for a while is pinged before use, so a restarted server costs at
most one failed statement, not a dead pool. JSON columns are encoded and decoded
by :mod:`taskward.core._json` on both.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from taskward.core._json import dumps, loads
from taskward.core.errors import DatabaseUnavailableError

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Seconds a pooled PostgreSQL connection may rest before it is pinged on checkout.
PING_AFTER_IDLE = 1.0


def mask_url(url: str | URL) -> str:
    """The URL with its password replaced, fit for logs and error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def normalise_url(url: str | URL) -> URL:
    """Accept ``postgresql://`` and ``postgres://`` and pick the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUnavailableError(str(url), f"not a database URL ({exc})") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseUnavailableError(
            mask_url(parsed), "only sqlite:/// and postgresql:// URLs are supported"
        )
    return parsed


def create_engine(url: str | URL, **kwargs: Any) -> sa.Engine:
    """Make an engine for ``url`` with the settings a queue needs on that dialect."""
    parsed = normalise_url(url)
    kwargs.setdefault("json_serializer", dumps)
    kwargs.setdefault("json_deserializer", loads)
    try:
        if parsed.get_backend_name() == "sqlite":
            connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
            if parsed.database in (None, "", ":memory:"):
                kwargs.setdefault("poolclass", StaticPool)
            return prepare_engine(sa.create_engine(parsed, connect_args=connect_args, **kwargs))
        if "poolclass" not in kwargs:
            kwargs.setdefault("pool_size", 10)
            kwargs.setdefault("max_overflow", 20)
        return prepare_engine(sa.create_engine(parsed, **kwargs))
    except (NoSuchModuleError, ImportError) as exc:
        raise DatabaseUnavailableError(mask_url(parsed), f"driver missing ({exc})") from None


def prepare_engine(engine: sa.Engine) -> sa.Engine:
    """Give ``engine`` the dialect setup a queue needs (once; an engine the user built
    gets the same as one made from a URL): SQLite's pragmas and ``BEGIN IMMEDIATE``,
    PostgreSQL's ping of rested connections. Pool sizes and JSON codecs stay the
    engine's own."""
    if engine in _prepared:
        return engine
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    elif engine.dialect.name == "postgresql":
        _ping_when_idle(engine)
    else:
        raise DatabaseUnavailableError(
            mask_url(engine.url), "only sqlite:/// and postgresql:// URLs are supported"
        )
    _prepared.add(engine)
    return engine


_prepared: weakref.WeakSet[sa.Engine] = weakref.WeakSet()


def _ping_when_idle(engine: sa.Engine) -> None:
    """SQLAlchemy's pre-ping, but only for connections idle ``PING_AFTER_IDLE`` or more.

    A ping is a round trip before every transaction (a fifth of a single enqueue's);
    a connection in steady use skips it. If the server restarted under one, its next
    statement fails once, SQLAlchemy then replaces the whole pool, and callers retry.
    """
    dbapi_error = engine.dialect.loaded_dbapi.Error

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _rest(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("idle_since", 0.0) < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except dbapi_error as exc:  # the pool replaces the connection and retries
            raise sa.exc.DisconnectionError(str(exc)) from exc


def _tune_sqlite(engine: sa.Engine) -> None:
    @event.listens_for(engine, "checkout")
    def _pragmas(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        # On checkout, not connect: an engine handed in may have pooled connections already.
        if record.info.get("taskward_pragmas"):
            return
        dbapi_conn.isolation_level = None  # the driver's own BEGIN would pre-empt ours
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()
        record.info["taskward_pragmas"] = True

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def check_connection(engine: sa.Engine) -> None:
    """Fail with one line naming the (masked) URL and why it cannot be used."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailableError(mask_url(engine.url), reason) from None
