"""The migrations build exactly the schema the models declare, on both dialects
(issue 11, item 3): Alembic's autogenerate finds nothing to change."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from taskward.core import migrate, schema
from taskward.core.db import create_engine


def _differences(url: str, metadata: sa.MetaData) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "version_table": migrate.VERSION_TABLE,
                    "compare_type": True,
                    "compare_server_default": True,
                },
            )
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def test_autogenerate_finds_no_difference(database_url: str) -> None:
    diff = _differences(database_url, schema.metadata)
    assert diff == [], "\n".join(map(str, diff))


def test_the_comparison_sees_a_model_the_migrations_lack(database_url: str) -> None:
    drifted = sa.MetaData()
    for table in schema.metadata.tables.values():
        table.to_metadata(drifted)
    jobs = drifted.tables[schema.jobs.name]
    jobs.append_column(sa.Column("drifted", sa.Integer))
    sa.Index("taskward_jobs_drifted_idx", jobs.c.drifted)
    kinds = {d[0] if isinstance(d, tuple) else d[0][0] for d in _differences(database_url, drifted)}
    assert kinds == {"add_column", "add_index"}
