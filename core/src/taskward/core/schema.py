"""The tables, as SQLAlchemy Core metadata; Alembic migrations create them.

Timestamps are stored timezone-aware on PostgreSQL and as UTC text on SQLite;
:class:`UTCDateTime` hands back aware UTC datetimes on both.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

metadata = sa.MetaData()


class _SQLiteUTCText(sqlite.DATETIME):
    """SQLite's DATETIME column with the conversion left to :class:`UTCDateTime`."""

    def bind_processor(self, dialect: Dialect) -> None:
        return None

    def result_processor(self, dialect: Dialect, coltype: object) -> None:
        return None


class UTCDateTime(sa.TypeDecorator[datetime]):
    """An aware UTC datetime on every dialect (naive values are refused).

    On SQLite the value is stored as naive UTC ISO text, always with microseconds,
    in the format SQLAlchemy's own DATETIME writes, so text order is time order.
    The conversions are done here in one step, with the C ``isoformat`` and
    ``fromisoformat``, because they run for every timestamp of every job.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return _SQLiteUTCText()  # type: ignore[no-untyped-call]
        return dialect.type_descriptor(self.impl)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return sqlite_time(value)
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Taskward stores aware UTC times")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return _parse_sqlite_time(value)
        assert isinstance(value, datetime)
        if value.tzinfo is UTC:
            return value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@functools.lru_cache(maxsize=4096)
def _parse_sqlite_time(text: str) -> datetime:
    # Rows read together share few distinct times (a batch's enqueue, claim, settle);
    # datetimes are immutable, so one parsed value can serve them all.
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def sqlite_time(value: datetime) -> str:
    """An aware datetime as SQLite stores it: naive UTC ISO text with microseconds."""
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Taskward stores aware UTC times")
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


class CurrentTxid(sa.sql.expression.ColumnElement[int]):
    """The writing transaction's id on PostgreSQL as ``bigint`` (the relay's read
    position, see :mod:`taskward.core.store.outbox`), NULL elsewhere."""

    type = sa.BigInteger()
    inherit_cache = True


@compiles(CurrentTxid)
def _txid_default(element: CurrentTxid, compiler: SQLCompiler, **kw: Any) -> str:
    return "NULL"


@compiles(CurrentTxid, "postgresql")
def _txid_postgresql(element: CurrentTxid, compiler: SQLCompiler, **kw: Any) -> str:
    return "(pg_current_xact_id()::text::bigint)"


JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

jobs = sa.Table(
    "taskward_jobs",
    metadata,
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

job_events = sa.Table(
    "taskward_job_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.Uuid()),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("queue", sa.String(128)),
    sa.Column("task", sa.String(255)),
    sa.Column("state", sa.String(16)),
    sa.Column("attempt", sa.Integer()),
    sa.Column("data", JSONType, nullable=False),
    sa.Column("txid", sa.BigInteger(), server_default=CurrentTxid()),
)

workers = sa.Table(
    "taskward_workers",
    metadata,
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer(), nullable=False),
    sa.Column("queues", JSONType, nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("heartbeat_at", UTCDateTime(), nullable=False),
)

queues = sa.Table(
    "taskward_queues",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

leases = sa.Table(
    "taskward_leases",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("holder", sa.String(255), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
)

job_logs = sa.Table(
    "taskward_job_logs",
    metadata,
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

sa.Index(
    "taskward_jobs_claim_idx",
    jobs.c.queue,
    jobs.c.priority,
    jobs.c.scheduled_at,
    jobs.c.id,
    postgresql_where=jobs.c.state == "available",
    sqlite_where=jobs.c.state == "available",
)
sa.Index(
    "taskward_jobs_stage_idx",
    jobs.c.scheduled_at,
    postgresql_where=jobs.c.state.in_(["scheduled", "retryable"]),
    sqlite_where=jobs.c.state.in_(["scheduled", "retryable"]),
)
sa.Index(
    "taskward_jobs_executing_idx",
    jobs.c.attempted_by,
    postgresql_where=jobs.c.state == "executing",
    sqlite_where=jobs.c.state == "executing",
)
sa.Index("taskward_jobs_state_queue_idx", jobs.c.state, jobs.c.queue)
sa.Index(
    "taskward_jobs_unique_idx",
    jobs.c.unique_key,
    unique=True,
    postgresql_where=jobs.c.unique_key.isnot(None),
    sqlite_where=jobs.c.unique_key.isnot(None),
)
sa.Index(
    "taskward_jobs_trace_idx",
    jobs.c.trace_id,
    postgresql_where=jobs.c.trace_id.isnot(None),
    sqlite_where=jobs.c.trace_id.isnot(None),
)
sa.Index(
    "taskward_jobs_finished_idx",
    jobs.c.state,
    jobs.c.finished_at,
    postgresql_where=jobs.c.finished_at.isnot(None),
    sqlite_where=jobs.c.finished_at.isnot(None),
)
sa.Index("taskward_job_events_job_idx", job_events.c.job_id)
sa.Index(
    "taskward_job_events_position_idx",
    job_events.c.txid,
    job_events.c.id,
    postgresql_where=job_events.c.txid.isnot(None),
    sqlite_where=job_events.c.txid.isnot(None),
)
sa.Index("taskward_job_logs_ts_idx", job_logs.c.ts)

# -- schedules, workflows and limits (revision 0002) ------------------------------------

schedules = sa.Table(
    "taskward_schedules",
    metadata,
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

workflow_jobs = sa.Table(
    "taskward_workflow_jobs",
    metadata,
    sa.Column("job_id", sa.Uuid(), primary_key=True),
    sa.Column("workflow_id", sa.Uuid(), nullable=False),
    sa.Column("step", sa.String(255)),
    sa.Column("on_dependency_failure", sa.String(16), nullable=False),
)

job_dependencies = sa.Table(
    "taskward_job_dependencies",
    metadata,
    sa.Column("job_id", sa.Uuid(), primary_key=True),
    sa.Column("depends_on", sa.Uuid(), primary_key=True),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Column("spawned", sa.Boolean(), nullable=False, server_default=sa.false()),
)

limit_buckets = sa.Table(
    "taskward_limit_buckets",
    metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("tokens", sa.Float(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

sa.Index("taskward_workflow_jobs_workflow_idx", workflow_jobs.c.workflow_id)
sa.Index("taskward_job_dependencies_depends_on_idx", job_dependencies.c.depends_on)

event_consumers = sa.Table(
    "taskward_event_consumers",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("txid", sa.BigInteger(), nullable=False),
    sa.Column("event_id", sa.BigInteger(), nullable=False),
    sa.Column("registered_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)
