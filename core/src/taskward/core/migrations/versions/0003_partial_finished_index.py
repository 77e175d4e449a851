"""Index only finished jobs by ``finished_at``.

Every job used to enter the ``finished_at`` index at insert with a NULL that
retention never looks for; a partial index skips that write on every enqueue
and every claim (measured: ~0.7 µs of the server's ~5 µs per bulk-inserted job).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

INDEX = "taskward_jobs_finished_idx"
FINISHED = sa.text("finished_at IS NOT NULL")


def upgrade() -> None:
    op.drop_index(INDEX, table_name="taskward_jobs")
    op.create_index(
        INDEX,
        "taskward_jobs",
        ["finished_at"],
        postgresql_where=FINISHED,
        sqlite_where=FINISHED,
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="taskward_jobs")
    op.create_index(INDEX, "taskward_jobs", ["finished_at"])
