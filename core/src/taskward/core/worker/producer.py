"""Claiming and running: each queue claims in batches as slots free up, and every claimed
job is either started or handed to the completer in the same step, never lost between.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence, Set
from typing import Any

from taskward.core.attempt import AttemptContext
from taskward.core.events import JobStarted, QueueClaimed
from taskward.core.job import Job
from taskward.core.ports import Offload, Runtime
from taskward.core.worker.claims import ClaimLedger
from taskward.core.worker.completer import Completer
from taskward.core.worker.executor import Executor, unknown_task
from taskward.core.worker.runner import QueueRunner

log = logging.getLogger("taskward.core.worker")


class Producer:
    """Claims jobs for a worker's queues and runs each attempt until it is settled."""

    def __init__(
        self,
        *,
        runtime: Runtime,
        worker_id: str,
        runners: dict[str, QueueRunner],
        claims: ClaimLedger,
        executor: Executor,
        offload: Offload,
        stopping: asyncio.Event,
        paused: Callable[[], Set[str]],
        claim_batch: int,
        poll_interval: float,
        plugins: Sequence[object] = (),
    ) -> None:
        self._rt = runtime
        self._worker_id = worker_id
        self._runners = runners
        self._claims = claims
        #: Writes the attempts' outcomes in batches (started here, closed by the worker).
        self.completer = self._completer = Completer(
            connect=runtime.connect,
            store=runtime.store,
            clock=runtime.clock,
            worker_id=worker_id,
            run_in_db=offload,
            emit=runtime.emit,
        )
        self._completer.start()
        self._executor = executor
        self._offload = offload
        self._stopping = stopping
        self._paused = paused
        self._claim_batch = claim_batch
        self._poll_interval = poll_interval
        self._plugins = tuple(plugins)
        self._loop = asyncio.get_running_loop()
        self.attempts: dict[uuid.UUID, tuple[AttemptContext, asyncio.Task[None]]] = {}

    async def produce(self, runner: QueueRunner) -> None:
        """Claim for ``runner`` whenever it has free slots, until the worker stops."""
        delay = 0.1
        while not self._stopping.is_set():
            runner.wake.clear()
            free = runner.limit - runner.running
            if free > 0 and runner.name not in self._paused():
                want = min(free, self._claim_batch)
                try:
                    started = await self._claim_and_spawn(runner, want)
                except Exception as exc:
                    log.warning(
                        "claim on queue %s failed (%s); retrying in %.1fs",
                        runner.name,
                        _reason(exc),
                        delay,
                    )
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                delay = 0.1
                if len(started) == want:
                    continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(runner.wake.wait(), self._idle_wait(runner.name))

    async def _claim_and_spawn(self, runner: QueueRunner, want: int) -> list[JobStarted]:
        """Claim up to ``want`` jobs and start them, all inside the claim ledger (and
        only that: a failed claim's backoff must not hold back the stranded-job check)."""
        with self._claims.claiming():
            started = await self._offload(self.claim, runner.name, want)
            if self._stopping.is_set():
                for s in started:  # claimed while shutting down: hand straight back
                    self._completer.settle(s.job, None)
            elif started:
                self._rt.emit(started)
                for s in started:
                    self.spawn(s)
        return started

    def _idle_wait(self, queue: str) -> float:
        """The poll interval, or less when a rate limit holding jobs has a token soon."""
        limiter = self._rt.store.claim_limiter
        hint = limiter.retry_after(queue) if limiter is not None else None
        return self._poll_interval if hint is None else min(self._poll_interval, max(hint, 0.005))

    def claim(self, queue: str, limit: int) -> list[JobStarted]:
        """Claim up to ``limit`` jobs of ``queue`` (blocking: runs in the db pool)."""
        rt = self._rt
        began, claimed, error = time.perf_counter(), [], None
        try:
            with rt.connect(autocommit=rt.store.claims_in_one_statement()) as conn:
                claimed = rt.store.claim(conn, queue, self._worker_id, limit, rt.clock.now())
        except Exception as exc:
            error = type(exc).__name__
            raise
        finally:  # claim metrics come from the spine, like everything else
            took = time.perf_counter() - began
            rt.emit(
                [
                    QueueClaimed(
                        at=rt.clock.now(),
                        queue=queue,
                        worker_id=self._worker_id,
                        count=len(claimed),
                        duration=took,
                        error=error,
                    )
                ]
            )
        return claimed

    def spawn(self, started: JobStarted) -> asyncio.Task[None] | None:
        """Start the attempt; a job of a task this worker does not know is failed at once
        (and settled in this same step, so it is never unaccounted for)."""
        job = started.job
        tasks = self._rt.tasks
        task = tasks.get(job.task)
        if task is None:
            outcome = unknown_task(job, list(tasks), self._rt.clock.now())
            self._completer.settle(job, outcome)
            return None
        runner = self._runners[job.queue]
        runner.running += 1
        ctx = AttemptContext(
            job=job,
            task=task,
            worker_id=self._worker_id,
            report_progress=self._report_progress,
            plugins=self._plugins,
        )
        t = asyncio.create_task(self._attempt(runner, ctx))
        self.attempts[job.id] = (ctx, t)
        return t

    async def _attempt(self, runner: QueueRunner, ctx: AttemptContext) -> None:
        completer = self._completer
        try:
            try:
                outcome = await self._executor.execute(ctx)
            except asyncio.CancelledError:
                completer.settle(ctx.job, None)  # shutdown: hand the job back
                return
            completer.settle(ctx.job, outcome)
            if ctx.lingering is not None:  # the thread still runs: keep its slot until it ends
                with contextlib.suppress(BaseException):
                    await asyncio.wrap_future(ctx.lingering)
        finally:
            if self.attempts.get(ctx.job.id, (None,))[0] is ctx:  # not a later re-claim's
                del self.attempts[ctx.job.id]
            runner.running -= 1
            runner.wake.set()

    def cancel(self, job_id: uuid.UUID) -> bool:
        """Stop a job this worker is running (the attempt ends ``cancelled``)."""
        entry = self.attempts.get(job_id)
        if entry is None:
            return False
        ctx, task = entry
        if not ctx.cancel_requested.is_set():
            ctx.cancel_requested.set()
            task.cancel()
        return True

    def wake(self, queues: set[str] | None) -> None:
        """Claim now for ``queues`` (``None``: every queue) if they have free slots."""
        for name, runner in self._runners.items():
            if queues is None or name in queues:
                runner.wake.set()

    def wake_threadsafe(self, queues: set[str]) -> None:
        """:meth:`wake` from any thread (an enqueue in this process)."""
        if not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self.wake, queues)

    def _report_progress(self, job: Job, progress: dict[str, Any]) -> None:
        """Hand progress to the completer on the loop (sync handlers call from a thread)."""
        completer = self._completer
        try:
            on_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            completer.progress(job, progress)
        else:
            self._loop.call_soon_threadsafe(completer.progress, job, progress)


def _reason(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
