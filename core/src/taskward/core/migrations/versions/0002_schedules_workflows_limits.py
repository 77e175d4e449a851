"""Schedule state, workflow dependencies and limit buckets.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from taskward.core.schema import UTCDateTime

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "taskward_schedules",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("cron", sa.String(255), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("task", sa.String(255), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("last_fire_at", UTCDateTime()),
        sa.Column("next_fire_at", UTCDateTime()),
        sa.Column("last_success_at", UTCDateTime()),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "taskward_workflow_jobs",
        sa.Column("job_id", sa.Uuid(), primary_key=True),
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("step", sa.String(255)),
        sa.Column("on_dependency_failure", sa.String(16), nullable=False),
    )
    op.create_index(
        "taskward_workflow_jobs_workflow_idx", "taskward_workflow_jobs", ["workflow_id"]
    )
    op.create_table(
        "taskward_job_dependencies",
        sa.Column("job_id", sa.Uuid(), primary_key=True),
        sa.Column("depends_on", sa.Uuid(), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("spawned", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "taskward_job_dependencies_depends_on_idx", "taskward_job_dependencies", ["depends_on"]
    )
    op.create_table(
        "taskward_limit_buckets",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "taskward_limit_buckets",
        "taskward_job_dependencies",
        "taskward_workflow_jobs",
        "taskward_schedules",
    ):
        op.drop_table(table)
