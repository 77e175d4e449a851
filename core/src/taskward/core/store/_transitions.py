"""The store's side of ``states.TRANSITIONS``: the check in SQL, and the error.

A snapshot write updates a row only if ``(its current state, the new state)`` is
an allowed pair: a constant ``CASE`` on the new state in the statement (measured
on SQLite: 0.2 µs a row, where a ``VALUES`` list of pairs cost 2.5), and nothing
in Python but comparing the row count. The current state is read under the row's
lock, in the same statement, so no race can slip an illegal move past it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from taskward.core import schema
from taskward.core.errors import IllegalTransitionError
from taskward.core.job import Job
from taskward.core.states import ALLOWED

_SOURCES = {
    target: ", ".join(f"'{s}'" for s, t in sorted(ALLOWED) if t == target)
    for target in sorted({t for _, t in ALLOWED})
}


def allowed(current: str, new: str) -> str:
    """SQL true when a row may move from ``current`` to ``new`` (both SQL expressions)."""
    whens = " ".join(f"WHEN '{t}' THEN {current} IN ({s})" for t, s in _SOURCES.items())
    return f"CASE {new} {whens} ELSE FALSE END"


def refused(conn: sa.Connection, jobs: Sequence[Job]) -> IllegalTransitionError:
    """The error for a write that updated fewer rows than ``jobs``: the moves refused.

    Called inside the failed write's transaction, which the caller then rolls back.
    """
    table = schema.jobs
    ids = [job.id for job in jobs]
    read = sa.select(table.c.id, table.c.state).where(table.c.id.in_(ids))
    current = dict(conn.execute(read).all())
    moves = [(job, current.get(job.id)) for job in jobs]
    # Rows this write did update hold the new state already; any other is a refused move.
    bad = [(job, now) for job, now in moves if now != job.state] or [
        (job, now) for job, now in moves if (now, job.state) not in ALLOWED
    ]
    return IllegalTransitionError(
        [f"job {job.id}: {now or 'no such row'} -> {job.state}" for job, now in bad]
    )
