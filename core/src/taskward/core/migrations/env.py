"""Alembic environment: always run programmatically on a connection we hand it."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from taskward.core.schema import metadata

connection: Connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table="taskward_alembic_version",
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
