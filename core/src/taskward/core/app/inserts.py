"""Writing a validated batch of new jobs: unique keys already taken, dependencies linked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from taskward.core.events import JobEvent
from taskward.core.job import Job
from taskward.core.store import SqlStore
from taskward.core.workflows.plan import Plan


def insert(
    store: SqlStore,
    conn: sa.Connection,
    jobs: Sequence[Job],
    now: datetime,
    dependencies: Plan | None,
) -> tuple[list[JobEvent], dict[str, Job]]:
    """Insert ``jobs``; with dependencies, link them in the same transaction.

    Returns the events of the jobs inserted and, by unique key, the jobs already
    holding the keys of those that were not.
    """
    if dependencies is not None:
        dependencies.check(conn)
    events = store.insert(conn, jobs, now)
    existing: dict[str, Job] = {}
    if len(events) != len(jobs):  # unique keys taken: the jobs holding them
        inserted = {e.job.id for e in events}
        keys = [j.unique_key for j in jobs if j.id not in inserted and j.unique_key]
        existing = store.find_by_unique_keys(conn, keys)
    if dependencies is not None:
        inserted = {e.job.id for e in events}
        ids = [j.id if j.id in inserted else existing[j.unique_key or ""].id for j in jobs]
        events += dependencies.link(store, conn, ids, inserted, now)
    return events, existing
