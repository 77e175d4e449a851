"""Fixtures shared by the whole suite: one database per test, on both dialects."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from taskward.core import FakeClock, Taskward
from taskward.core import migrate as migrations
from taskward.core.db import create_engine
from taskward.core.testing import EventRecorder
from tests.services import PG_ADMIN_URL, unavailable

DIALECTS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[sa.Engine]:
    engine = sa.create_engine(
        PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"),
        isolation_level="AUTOCOMMIT",
        poolclass=sa.pool.NullPool,
    )
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        unavailable(f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {exc.orig}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def pg_template(pg_admin: sa.Engine) -> Iterator[str]:
    """A database migrated once per session, cloned for every test (fast)."""
    name = f"taskward_tpl_{os.getpid()}"
    with pg_admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(_pg_url(name), poolclass=sa.pool.NullPool)
    migrations.upgrade(engine)
    engine.dispose()
    yield name
    with pg_admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _pg_url(database: str) -> str:
    return sa.make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)


@pytest.fixture
def postgresql_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test; its URL."""
    admin: sa.Engine = request.getfixturevalue("pg_admin")
    template: str = request.getfixturevalue("pg_template")
    name = f"taskward_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield _pg_url(name)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_database(tmp_path: os.PathLike[str]) -> str:
    """A fresh, migrated SQLite database file for one test; its URL."""
    url = f"sqlite:///{tmp_path}/taskward.db"
    engine = create_engine(url)
    migrations.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(params=DIALECTS)
def database_url(request: pytest.FixtureRequest) -> str:
    """The URL of a fresh migrated database, once per dialect."""
    return str(request.getfixturevalue(f"{request.param}_database"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(database_url: str) -> Iterator[Taskward]:
    app = Taskward(database_url)
    yield app
    app.close()


@pytest.fixture
def clocked_app(database_url: str, clock: FakeClock) -> Iterator[Taskward]:
    """An app whose time moves only when the test moves ``clock``."""
    app = Taskward(database_url, clock=clock)
    yield app
    app.close()


@pytest.fixture
def recorder(app: Taskward) -> Iterator[EventRecorder]:
    rec = EventRecorder(app)
    yield rec
    rec.close()
