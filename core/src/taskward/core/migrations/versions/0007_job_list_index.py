"""Index the states an operator lists by, newest first: ``jobs list --state discarded``.

A first page of a state newest first is then a short backward index scan, however
the table's states are spread in time. Only the states a job rests in off the
hot path (scheduled, retryable, discarded, cancelled) are indexed, so an enqueue,
claim or completion writes nothing more; the common states (completed,
available, executing) are found by walking the primary key or their own indexes.

Revision ID: 0007
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0004"

INDEX = "taskward_jobs_list_state_idx"
RESTING = sa.text("state IN ('scheduled', 'retryable', 'discarded', 'cancelled')")


def upgrade() -> None:
    op.create_index(
        INDEX, "taskward_jobs", ["state", "id"], postgresql_where=RESTING, sqlite_where=RESTING
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="taskward_jobs")
