"""SQLite: one writer at a time (``BEGIN IMMEDIATE``), so claims need no row locks."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.sql.dml import Insert

from taskward.core.store.sql import SqlStore


class SqliteStore(SqlStore):
    dialect = "sqlite"

    def _insert_into(self, table: sa.Table) -> Insert:
        return insert(table)
