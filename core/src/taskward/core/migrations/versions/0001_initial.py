"""Jobs, the event outbox, workers, queues, leases and execution logs.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from taskward.core.schema import BigId, JSONType, UTCDateTime

revision = "0001"
down_revision = None

_AVAILABLE = sa.text("state = 'available'")


def upgrade() -> None:
    op.create_table(
        "taskward_jobs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("queue", sa.String(128), nullable=False),
        sa.Column("task", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("args", JSONType, nullable=False),
        sa.Column("kwargs", JSONType, nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("attempt", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("scheduled_at", UTCDateTime(), nullable=False),
        sa.Column("inserted_at", UTCDateTime(), nullable=False),
        sa.Column("attempted_at", UTCDateTime()),
        sa.Column("finished_at", UTCDateTime()),
        sa.Column("attempted_by", sa.String(255)),
        sa.Column("errors", JSONType, nullable=False),
        sa.Column("result", JSONType),
        sa.Column("progress", JSONType),
        sa.Column("tags", JSONType, nullable=False),
        sa.Column("meta", JSONType, nullable=False),
        sa.Column("unique_key", sa.String(512)),
        sa.Column("timeout", sa.Float()),
        sa.Column("trace_id", sa.String(32)),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    waiting = sa.text("state IN ('scheduled', 'retryable')")
    executing = sa.text("state = 'executing'")
    has_key = sa.text("unique_key IS NOT NULL")
    has_trace = sa.text("trace_id IS NOT NULL")
    op.create_index(
        "taskward_jobs_claim_idx",
        "taskward_jobs",
        ["queue", "priority", "scheduled_at", "id"],
        postgresql_where=_AVAILABLE,
        sqlite_where=_AVAILABLE,
    )
    op.create_index(
        "taskward_jobs_stage_idx",
        "taskward_jobs",
        ["scheduled_at"],
        postgresql_where=waiting,
        sqlite_where=waiting,
    )
    op.create_index(
        "taskward_jobs_executing_idx",
        "taskward_jobs",
        ["attempted_by"],
        postgresql_where=executing,
        sqlite_where=executing,
    )
    op.create_index("taskward_jobs_state_queue_idx", "taskward_jobs", ["state", "queue"])
    op.create_index(
        "taskward_jobs_unique_idx",
        "taskward_jobs",
        ["unique_key"],
        unique=True,
        postgresql_where=has_key,
        sqlite_where=has_key,
    )
    op.create_index(
        "taskward_jobs_trace_idx",
        "taskward_jobs",
        ["trace_id"],
        postgresql_where=has_trace,
        sqlite_where=has_trace,
    )
    op.create_index("taskward_jobs_finished_idx", "taskward_jobs", ["finished_at"])

    op.create_table(
        "taskward_job_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.Uuid()),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("queue", sa.String(128)),
        sa.Column("task", sa.String(255)),
        sa.Column("state", sa.String(16)),
        sa.Column("attempt", sa.Integer()),
        sa.Column("data", JSONType, nullable=False),
    )
    op.create_index("taskward_job_events_job_idx", "taskward_job_events", ["job_id"])

    op.create_table(
        "taskward_workers",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("queues", JSONType, nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "taskward_queues",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "taskward_leases",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "taskward_job_logs",
        sa.Column("job_id", sa.Uuid(), primary_key=True),
        sa.Column("attempt", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("severity_number", sa.SmallInteger(), nullable=False),
        sa.Column("severity_text", sa.String(16), nullable=False),
        sa.Column("logger", sa.String(255), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("attributes", JSONType, nullable=False),
        sa.Column("exception", sa.Text()),
        sa.Column("trace_id", sa.String(32)),
        sa.Column("span_id", sa.String(16)),
    )
    op.create_index("taskward_job_logs_ts_idx", "taskward_job_logs", ["ts"])


def downgrade() -> None:
    for table in (
        "taskward_job_logs",
        "taskward_leases",
        "taskward_queues",
        "taskward_workers",
        "taskward_job_events",
        "taskward_jobs",
    ):
        op.drop_table(table)
