"""Throwaway databases: a migrated template per dialect, copied fresh for every measurement.

SQLite: files in a temporary directory. PostgreSQL: databases on the shared
server (``TASKWARD_BENCH_PG``, default ``postgresql://postgres@127.0.0.1:5432/postgres``),
cloned from a migrated template and all dropped when the run ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from taskward.core import migrate
from taskward.core.db import create_engine

PG_ADMIN_URL = os.environ.get("TASKWARD_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


class Databases:
    """Fresh migrated databases of one dialect; ``close()`` removes them all."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self._tmp = Path(tempfile.mkdtemp(prefix="taskward-bench-"))
        self._created: list[str] = []
        self._admin: sa.Engine | None = None
        self._template = self._make_template()

    def fresh(self) -> str:
        """The URL of a new, empty, migrated database."""
        if self.dialect == "sqlite":
            path = self._tmp / f"{uuid.uuid4().hex[:8]}.db"
            shutil.copyfile(self._template, path)
            return f"sqlite:///{path}"
        name = f"taskward_bench_{uuid.uuid4().hex[:10]}"
        self._admin_exec(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
        self._created.append(name)
        return _pg_url(name)

    def close(self) -> None:
        for name in reversed(self._created):
            with contextlib.suppress(sa.exc.DBAPIError):
                self._admin_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if self._admin is not None:
            self._admin.dispose()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def _make_template(self) -> str:
        if self.dialect == "sqlite":
            path = self._tmp / "template.db"
            url = f"sqlite:///{path}"
        else:
            name = f"taskward_bench_tpl_{uuid.uuid4().hex[:8]}"
            self._admin_exec(f'CREATE DATABASE "{name}"')
            self._created.append(name)
            url = _pg_url(name)
        engine = create_engine(url, poolclass=sa.pool.NullPool)
        try:
            migrate.upgrade(engine)
        finally:
            engine.dispose()
        if self.dialect == "sqlite":
            return str(path)
        return name

    def _admin_exec(self, sql: str) -> None:
        if self._admin is None:
            self._admin = sa.create_engine(
                PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                isolation_level="AUTOCOMMIT",
                poolclass=sa.pool.NullPool,
            )
        with self._admin.connect() as conn:
            conn.execute(sa.text(sql))


@contextlib.contextmanager
def databases(dialect: str) -> Iterator[Databases]:
    dbs = Databases(dialect)
    try:
        yield dbs
    finally:
        dbs.close()


def _pg_url(database: str) -> str:
    return sa.make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)
