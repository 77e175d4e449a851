"""Engines for the two dialects, tuned for a queue.

SQLite: WAL, ``synchronous=NORMAL``, a busy timeout, and ``BEGIN IMMEDIATE`` so a
transaction takes the write lock up front instead of failing on upgrade when
several worker processes share one file. PostgreSQL: psycopg 3; a pooled
connection idle for a while is pinged before use, so a restarted server costs at
most one failed statement, not a dead pool. JSON columns are encoded and decoded
by :mod:`taskward.core._json` on both.

Every PostgreSQL connection has a connect timeout and a statement timeout
(:class:`Timeouts`): a server or proxy that accepts the connection and never
answers fails a call in seconds instead of hanging it. The URL overrides them
(``?connect_timeout=10&statement_timeout=5s``; ``statement_timeout=0`` is none).
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import time
import weakref
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from taskward.core._json import dumps, loads
from taskward.core.errors import DatabaseUnavailableError

#: Where every process looks when given no URL: the app, the CLI and the demo meet here.
ENV_VAR = "TASKWARD_DATABASE_URL"
DEFAULT_URL = "sqlite:///.taskward/taskward.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Seconds a pooled PostgreSQL connection may rest before it is pinged on checkout.
PING_AFTER_IDLE = 1.0
#: PostgreSQL's own forms: milliseconds, or a number with one of its time units.
_DURATION = re.compile(r"\d+(\.\d+)?(us|ms|s|min|h|d)?")


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeouts:
    """How long a PostgreSQL connection may take to open, and a statement to run.

    The URL's ``connect_timeout`` (seconds) and ``statement_timeout`` (milliseconds,
    or with a unit: ``5s``) win over these. SQLite ignores both: it has its busy
    timeout (``SQLITE_BUSY_TIMEOUT_MS``) instead.
    """

    #: Seconds to connect, authenticate included (libpq counts whole seconds, at least 2).
    connect: int = 5
    #: Seconds one statement may run on the server; ``None``: no limit.
    statement: float | None = 30.0


#: Applications and workers: a claim or settlement that takes 30 s is stuck, not slow.
DEFAULT_TIMEOUTS = Timeouts()


#: Where every Taskward command and process looks for the database URL.
DATABASE_URL_ENV = ENV_VAR
#: Stands for the password in a command printed for the user to paste and edit.
PASSWORD_PLACEHOLDER = "<password>"  # noqa: S105 - a placeholder, not a secret


def default_url() -> str:
    """``$TASKWARD_DATABASE_URL``, else the embedded default (a file under ./.taskward/)."""
    return os.environ.get(ENV_VAR) or DEFAULT_URL


def mask_url(url: str | URL) -> str:
    """The URL with its password replaced, fit for logs and error messages."""
    try:
        return _shown(make_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def pasteable_url(url: str | URL) -> str:
    """``url`` as a shell word for a command to paste: the URL itself when it has no
    password; else ``"$TASKWARD_DATABASE_URL"`` when that variable holds it, else the
    URL with ``<password>`` to fill in (a masked ``***`` would fail when pasted)."""
    try:
        parsed = _shown(make_url(url))
    except ArgumentError:
        return f'"${DATABASE_URL_ENV}"'
    if parsed.password is None:
        return shlex.quote(parsed.render_as_string(hide_password=False))
    env = os.environ.get(DATABASE_URL_ENV)
    with contextlib.suppress(ArgumentError):
        if env and _same(make_url(env), parsed):
            return f'"${DATABASE_URL_ENV}"'
    masked = parsed.render_as_string(hide_password=True)
    return shlex.quote(masked.replace(":***@", f":{PASSWORD_PLACEHOLDER}@", 1))


def _shown(url: URL) -> URL:
    """The URL as a user writes it: ``postgresql://``, not the driver we picked."""
    if url.drivername in ("postgresql+psycopg", "postgres"):
        return url.set(drivername="postgresql")
    return url


def _same(a: URL, b: URL) -> bool:
    def key(url: URL) -> str:
        return _shown(url).set(query={}).render_as_string(hide_password=False)

    return key(a) == key(b)


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


def create_engine(
    url: str | URL, *, timeouts: Timeouts = DEFAULT_TIMEOUTS, **kwargs: Any
) -> sa.Engine:
    """Make an engine for ``url`` with the settings a queue needs on that dialect."""
    parsed, params = timeout_params(normalise_url(url), timeouts)
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
        kwargs["connect_args"] = {**params, **kwargs.get("connect_args", {})}
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


def timeout_params(url: URL, timeouts: Timeouts = DEFAULT_TIMEOUTS) -> tuple[URL, dict[str, Any]]:
    """``url`` without ``statement_timeout`` (not a libpq parameter), and the driver
    parameters that apply both timeouts, the URL's values first. ``connect_timeout``
    stays in the URL when given there (libpq reads it), so a URL carries its own."""
    query = dict(url.query)
    statement = query.pop("statement_timeout", None)
    connect = query.get("connect_timeout")
    if url.get_backend_name() != "postgresql":
        query.pop("connect_timeout", None)
        return url.set(query=query), {}
    if not isinstance(statement, str | None) or not isinstance(connect, str | None):
        raise DatabaseUnavailableError(mask_url(url), "a timeout parameter is given twice")
    if statement is None:
        statement = str(round(timeouts.statement * 1000)) if timeouts.statement else "0"
    statement = statement.replace(" ", "")
    if not _DURATION.fullmatch(statement):
        raise DatabaseUnavailableError(
            mask_url(url),
            f"statement_timeout={statement!r}: expected milliseconds or a number with a"
            " unit (500ms, 5s, 1min)",
        )
    params: dict[str, Any] = {}
    if connect is None:
        params["connect_timeout"] = timeouts.connect
    elif not connect.isdigit():
        raise DatabaseUnavailableError(
            mask_url(url), f"connect_timeout={connect!r}: expected whole seconds"
        )
    given = query.pop("options", None)
    params["options"] = " ".join(
        [f"-c statement_timeout={statement}", *([given] if isinstance(given, str) else given or [])]
    )
    return url.set(query=query), params


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
