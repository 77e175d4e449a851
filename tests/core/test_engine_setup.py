"""``Taskward(engine)`` gets the dialect setup a URL gets (issue 11, item 7)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from taskward.core import Taskward, db


@pytest.fixture
def sqlite_app(sqlite_database: str) -> Iterator[Taskward]:
    engine = sa.create_engine(sqlite_database)  # the user's own, not db.create_engine
    app = Taskward(engine)
    yield app
    app.close()
    engine.dispose()


def test_a_sqlite_engine_gets_the_pragmas_and_immediate_transactions(sqlite_app: Taskward) -> None:
    with sqlite_app.connect() as conn:
        pragmas = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "busy_timeout")
        }
        # BEGIN IMMEDIATE took the write lock before any statement wrote.
        in_transaction = conn.connection.dbapi_connection.in_transaction  # type: ignore[union-attr]
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 1,  # NORMAL
        "busy_timeout": db.SQLITE_BUSY_TIMEOUT_MS,
    }
    assert in_transaction


def test_the_sqlite_engine_still_runs_jobs(sqlite_app: Taskward) -> None:
    from taskward.core.testing import drain

    @sqlite_app.task
    def double(n: int) -> int:
        return 2 * n

    job = double.enqueue(21)
    drain(sqlite_app)
    assert sqlite_app.result(job.id) == 42


def test_a_postgresql_engine_pings_a_rested_connection(
    postgresql_database: str, pg_admin: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = postgresql_database.replace("postgresql://", "postgresql+psycopg://")
    engine = sa.create_engine(url, pool_size=1, max_overflow=0)
    app = Taskward(engine)
    try:
        with app.connect() as conn:
            pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        with pg_admin.connect() as conn:
            assert conn.execute(sa.text(f"SELECT pg_terminate_backend({pid})")).scalar()
        monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)  # every checkout counts as rested
        with app.connect() as conn:  # replaced unnoticed, as with a URL
            assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        app.close()
        engine.dispose()
