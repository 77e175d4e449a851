"""The event relay's read position and consumers; retention's index.

* ``taskward_job_events.txid``: on PostgreSQL the id of the transaction that
  wrote the event (a column default, so every insert path, ``COPY`` included,
  fills it), indexed with the event id: the relay reads in (txid, id) order
  below the oldest running transaction (see ``taskward.core.store.outbox``).
  NULL on SQLite, where the partial index stays empty.
* A statement trigger ``NOTIFY``\\ s ``taskward_events`` on PostgreSQL when
  events are written, so relay readers wake on commit instead of polling.
* ``taskward_event_consumers``: one cursor per named consumer.
* ``taskward_jobs_finished_idx`` becomes (state, finished_at): the pruner
  walks one state's finished jobs by age, whatever the other states hold.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from taskward.core.schema import CurrentTxid, UTCDateTime

revision = "0004"
down_revision = "0003"

EVENTS = "taskward_job_events"
FINISHED_INDEX = "taskward_jobs_finished_idx"
FINISHED = sa.text("finished_at IS NOT NULL")
HAS_TXID = sa.text("txid IS NOT NULL")
NOTIFY_FUNCTION = """
CREATE FUNCTION taskward_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('taskward_events', '');
    RETURN NULL;
END $$
"""
NOTIFY_TRIGGER = (
    f"CREATE TRIGGER taskward_events_notify AFTER INSERT ON {EVENTS} "
    "FOR EACH STATEMENT EXECUTE FUNCTION taskward_events_notify()"
)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table(EVENTS) as batch:
        batch.add_column(sa.Column("txid", sa.BigInteger(), server_default=CurrentTxid()))
    op.create_index(
        "taskward_job_events_position_idx",
        EVENTS,
        ["txid", "id"],
        postgresql_where=HAS_TXID,
        sqlite_where=HAS_TXID,
    )
    if postgresql:
        op.execute(NOTIFY_FUNCTION)
        op.execute(NOTIFY_TRIGGER)
    op.create_table(
        "taskward_event_consumers",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("txid", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("registered_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.drop_index(FINISHED_INDEX, table_name="taskward_jobs")
    op.create_index(
        FINISHED_INDEX,
        "taskward_jobs",
        ["state", "finished_at"],
        postgresql_where=FINISHED,
        sqlite_where=FINISHED,
    )


def downgrade() -> None:
    op.drop_index(FINISHED_INDEX, table_name="taskward_jobs")
    op.create_index(
        FINISHED_INDEX,
        "taskward_jobs",
        ["finished_at"],
        postgresql_where=FINISHED,
        sqlite_where=FINISHED,
    )
    op.drop_table("taskward_event_consumers")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER taskward_events_notify ON {EVENTS}")
        op.execute("DROP FUNCTION taskward_events_notify()")
    op.drop_index("taskward_job_events_position_idx", table_name=EVENTS)
    with op.batch_alter_table(EVENTS) as batch:
        batch.drop_column("txid")
