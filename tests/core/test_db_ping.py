"""Pooled PostgreSQL connections: pinged before use only after resting, and a connection
the server dropped costs at most one failed statement."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from taskward.core import db


@pytest.fixture
def engine(postgresql_database: str) -> Iterator[sa.Engine]:
    engine = db.create_engine(postgresql_database, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _backend_pid(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pg_admin: sa.Engine, pid: int) -> None:
    with pg_admin.connect() as conn:
        assert conn.execute(sa.text(f"SELECT pg_terminate_backend({pid})")).scalar()


def test_a_rested_connection_the_server_dropped_is_replaced_unnoticed(
    engine: sa.Engine, pg_admin: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = _backend_pid(engine)
    _terminate(pg_admin, pid)
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)  # every checkout counts as rested
    assert _backend_pid(engine) != pid


def test_a_busy_connection_the_server_dropped_fails_once(
    engine: sa.Engine, pg_admin: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = _backend_pid(engine)
    _terminate(pg_admin, pid)
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 3600.0)  # never pinged
    with pytest.raises(sa.exc.DBAPIError) as failure:
        _backend_pid(engine)
    assert failure.value.connection_invalidated
    assert _backend_pid(engine) != pid


def test_a_busy_connection_is_not_pinged(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings: list[object] = []
    _backend_pid(engine)
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(conn) or True)
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 3600.0)
    _backend_pid(engine)
    assert pings == []
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)
    _backend_pid(engine)
    assert len(pings) == 1
