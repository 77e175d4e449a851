"""The SQL text of PostgreSQL's batched writes, built once from the column lists.

Rows travel as one JSON array parameter; ``jsonb_array_elements`` turns it back
into rows on the server, ``WITH ORDINALITY`` keeps their order (outbox ids follow
it). Large batches go by ``COPY`` instead, which the server ingests faster.
"""

from __future__ import annotations

from collections.abc import Sequence

from taskward.core.store._rows import EVENT_COLUMNS, INSERT_COLUMNS, UPDATE_COLUMNS
from taskward.core.store._transitions import allowed

WAKEUP_CHANNEL = "taskward_wakeup"
#: Payload prefixes on the wake-up channel: a queue with work, a job to cancel.
QUEUE_PREFIX = "q:"
CANCEL_PREFIX = "c:"

JSON_COLUMNS = frozenset({"args", "kwargs", "errors", "result", "progress", "tags", "meta", "data"})
#: Non-text columns that arrive as JSON text and need a cast.
CASTS = {
    "id": "uuid",
    "job_id": "uuid",
    "priority": "int2",
    "attempt": "int4",
    "max_attempts": "int4",
    "timeout": "float8",
    "scheduled_at": "timestamptz",
    "inserted_at": "timestamptz",
    "attempted_at": "timestamptz",
    "finished_at": "timestamptz",
    "at": "timestamptz",
    "cancel_requested": "bool",
}


def _element(row: str, index: int, column: str) -> str:
    if column in JSON_COLUMNS:
        return f"{row}->{index}"
    cast = CASTS.get(column)
    return f"({row}->>{index})::{cast}" if cast else f"{row}->>{index}"


def _insert(table: str, columns: Sequence[str], param: str = "%s") -> str:
    values = ", ".join(_element("e.r", i, c) for i, c in enumerate(columns))
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} "
        f"FROM jsonb_array_elements({param}::jsonb) WITH ORDINALITY AS e(r, n) ORDER BY e.n"
    )


def _copy(table: str, columns: Sequence[str]) -> str:
    return f"COPY {table} ({', '.join(columns)}) FROM STDIN"


#: New jobs (``%(jobs)s``), their ``inserted`` events (``%(events)s``) and the wake-up
#: notifications (``%(wake)s``: a JSON array of payloads), all in one statement.
INSERT_NEW = (
    f"WITH j AS ({_insert('taskward_jobs', INSERT_COLUMNS, '%(jobs)s')}), "
    f"e AS ({_insert('taskward_job_events', EVENT_COLUMNS, '%(events)s')}) "
    f"SELECT pg_notify('{WAKEUP_CHANNEL}', p) FROM jsonb_array_elements_text(%(wake)s::jsonb) AS p"
)
INSERT_EVENTS = _insert("taskward_job_events", EVENT_COLUMNS)
COPY_JOBS = _copy("taskward_jobs", INSERT_COLUMNS)
COPY_EVENTS = _copy("taskward_job_events", EVENT_COLUMNS)

_ID = len(UPDATE_COLUMNS)
#: A settlement: job snapshots (``%(jobs)s``: rows of UPDATE_COLUMNS then the id) and
#: their events (``%(events)s``) in one statement, which returns the rows updated (a row
#: whose move is not in ``states.TRANSITIONS`` is not). The ``= ANY(ARRAY(...))`` lets
#: the planner find the rows by primary key: it cannot estimate a join with JSON rows
#: and would otherwise scan the whole table.
SETTLE = (
    "WITH v AS MATERIALIZED (SELECT e.value AS r, (e.value->>"
    f"{_ID})::uuid AS id FROM jsonb_array_elements(%(jobs)s::jsonb) AS e), "
    "u AS (UPDATE taskward_jobs AS j SET "
    + ", ".join(f"{c} = {_element('v.r', i, c)}" for i, c in enumerate(UPDATE_COLUMNS))
    + " FROM v WHERE j.id = v.id AND j.id = ANY(ARRAY(SELECT id FROM v))"
    + f" AND {allowed('j.state', _element('v.r', UPDATE_COLUMNS.index('state'), 'state'))}"
    + " RETURNING 1), "
    + f"e AS ({_insert('taskward_job_events', EVENT_COLUMNS, '%(events)s')}) "
    + "SELECT count(*) FROM u"
)
