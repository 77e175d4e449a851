"""Enqueue in the caller's transaction, from async code too (issue 11, item 7)."""

from __future__ import annotations

import asyncio

from taskward.core import Taskward
from taskward.core.testing import EventRecorder
from tests.core.worker_support import count_rows


def test_enqueue_async_joins_the_callers_transaction(app: Taskward) -> None:
    recorder = EventRecorder(app)

    @app.task
    def welcome(user: int) -> None: ...

    async def rolled_back() -> None:
        with app.engine.connect() as conn:
            trans = conn.begin()
            await welcome.options(connection=conn).enqueue_async(1)
            trans.rollback()

    asyncio.run(rolled_back())
    assert count_rows(app) == 0
    assert recorder.names() == []

    async def committed() -> None:
        with app.engine.connect() as conn, conn.begin():
            job = await welcome.options(connection=conn).enqueue_async(2)
            assert recorder.names(job.id) == []  # nothing emitted before commit

    asyncio.run(committed())
    assert count_rows(app) == 1
    assert len(recorder.names()) == 1
    recorder.close()
