"""What each dialect provides: upserts, batched writes, row locks, wake-ups."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.dml import Insert

from taskward.core.events import JobEvent
from taskward.core.job import Job


class Dialect:
    """The hooks :class:`~taskward.core.store.sql.SqlStore` leaves to its dialects."""

    def _insert_into(self, table: sa.Table) -> Insert:
        """An INSERT with the dialect's ``ON CONFLICT`` support."""
        raise NotImplementedError

    def _insert_new(self, conn: sa.Connection, events: Sequence[JobEvent], wake: set[str]) -> None:
        """Insert the jobs of ``events`` (none with a unique key) and the events, batched,
        and :meth:`notify` the queues in ``wake``."""
        raise NotImplementedError

    def _insert_events(self, conn: sa.Connection, events: Sequence[JobEvent]) -> None:
        """Append events to the outbox, batched."""
        raise NotImplementedError

    def _write_snapshots(
        self, conn: sa.Connection, jobs: Sequence[Job], events: Sequence[JobEvent]
    ) -> int:
        """Write the job snapshots (one per job), then the events to the outbox, batched;
        a row is updated only if its move is in ``states.TRANSITIONS``: the rows updated."""
        raise NotImplementedError

    def id_in(
        self,
        column: sa.ColumnElement[uuid.UUID],
        ids: Sequence[uuid.UUID] | None = None,
        *,
        name: str | None = None,
    ) -> sa.ColumnElement[bool]:
        """``column IN ids`` for a batch of ids, in the form this dialect runs fastest.

        With ``name`` instead of ``ids``, a placeholder given at execution (``{name: ids}``).
        """
        return column.in_(sa.bindparam(name, ids, expanding=True))

    def _lock_for_claim(self, select: sa.Select[Any]) -> sa.Select[Any]:
        return select

    def _lock_rows(self, select: sa.Select[Any]) -> sa.Select[Any]:
        return select

    def notify(self, conn: sa.Connection, queues: Iterable[str]) -> None:
        """Wake workers of ``queues`` when ``conn`` commits (no-op where unsupported)."""

    def notify_cancel(self, conn: sa.Connection, job_id: uuid.UUID) -> None:
        """Tell the worker running ``job_id`` to stop it, on commit (else it polls)."""

    async def listen(
        self,
        on_queues: Callable[[set[str] | None], None],
        on_cancel: Callable[[uuid.UUID], object],
        stopping: asyncio.Event,
        on_listening: Callable[[], object] = lambda: None,
    ) -> None:
        """Until ``stopping``: call ``on_queues`` when other processes make jobs available
        (``None``: maybe any queue) and ``on_cancel`` when one asks to cancel a job.

        The dialect's way (``LISTEN``, polling a file); without one, return at once and
        let the worker poll. ``on_listening`` runs after every (re)connect.
        """
