"""Schema migrations: apply them, and refuse to run on a schema that is behind."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from taskward.core.db import mask_url, pasteable_url
from taskward.core.errors import SchemaOutOfDateError

if TYPE_CHECKING:  # alembic is imported lazily: it costs ~0.4 s of start-up for every CLI call
    from alembic.config import Config

VERSION_TABLE = "taskward_alembic_version"
_SCRIPTS = Path(__file__).with_name("migrations")


# Any constant works; it only has to be the same for every Taskward process.
MIGRATION_LOCK_ID = 0x7461736B77617264  # "taskward"


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return config


@functools.cache
def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: sa.Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (idempotent; safe to run on every deploy).

    On PostgreSQL a transaction-scoped advisory lock serialises concurrent upgrades from
    several hosts (on SQLite ``BEGIN IMMEDIATE`` already does), and the statement
    timeout is lifted for the migration's transaction.
    """
    from alembic import command

    config = _config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # A migration may rewrite a big table: no statement timeout for it.
            conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK_ID)))
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def ensure_current(engine: sa.Engine) -> None:
    """Raise :class:`SchemaOutOfDateError` unless the schema is at head."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaOutOfDateError(mask_url(engine.url), current, head, pasteable_url(engine.url))
