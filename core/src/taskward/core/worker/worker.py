"""The worker: claims jobs in batches, runs them on asyncio, settles them in batches.

Async handlers run on the event loop, sync handlers in a thread pool sized to
the total concurrency. Database work runs on a small thread pool of its own
(one thread on SQLite, where there is one writer anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import secrets
import signal
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from taskward.core._gc import freeze_startup_heap
from taskward.core.events import (
    JobEvent,
    JobStarted,
    MaintenanceRan,
    QueueClaimed,
    WorkerStarted,
    WorkerStopped,
)
from taskward.core.job import Job
from taskward.core.limits.autoscale import Autoscale, Autoscaler
from taskward.core.worker.claims import ClaimLedger
from taskward.core.worker.completer import Completer
from taskward.core.worker.context import AttemptContext
from taskward.core.worker.executor import Executor, Middleware, unknown_task
from taskward.core.worker.loops import Loop
from taskward.core.worker.maintenance import Maintenance
from taskward.core.worker.wakeup import listen_postgres, watch_sqlite

if TYPE_CHECKING:
    from taskward.core.app import Taskward

log = logging.getLogger("taskward.core.worker")
T = TypeVar("T")
REPEAT_SIGNAL_WINDOW = 1.0  # seconds; see _install_signals


@dataclass(slots=True, eq=False)
class QueueRunner:
    """Claim state of one queue in this worker."""

    name: str
    limit: int
    running: int = 0
    wake: asyncio.Event = field(default_factory=asyncio.Event)


#: Seconds a shutdown waits at least for its outcomes to be written.
MIN_SETTLE_WAIT = 5.0


class Worker:
    """Runs jobs from ``queues`` until stopped. See ``Taskward.worker``."""

    def __init__(
        self,
        app: Taskward,
        queues: Mapping[str, int] | Iterable[str] | None = None,
        *,
        worker_id: str | None = None,
        poll_interval: float = 1.0,
        heartbeat_interval: float = 5.0,
        rescue_after: float | None = None,
        stage_interval: float = 1.0,
        cancel_check_interval: float = 1.0,
        shutdown_grace: float = 30.0,
        claim_batch: int = 100,
        middleware: Sequence[Middleware] = (),
        listen: bool = True,
        autoscale: Mapping[str, Autoscale] | None = None,
    ) -> None:
        self.app = app
        self.queues = _normalise_queues(queues)
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"
        self.poll_interval = poll_interval
        self.heartbeat_interval = heartbeat_interval
        self.rescue_after = rescue_after or 6 * heartbeat_interval
        self.stage_interval = stage_interval
        self.cancel_check_interval = cancel_check_interval
        self.shutdown_grace = shutdown_grace
        self.claim_batch = claim_batch
        self.middleware = [*app.middleware, *middleware]  # app-level (instrumentation) outermost
        self.listen = listen
        self.maintenance = Maintenance(self)
        self.loops: list[Loop] = []
        #: Queues paused cluster-wide, as of the last heartbeat.
        self.paused: set[str] = set()
        self.runners = {name: QueueRunner(name, limit) for name, limit in self.queues.items()}
        #: Queues whose concurrency follows their backlog (``autoscale={queue: Autoscale}``).
        self.autoscaler = Autoscaler(self, autoscale) if autoscale else None
        self._attempts: dict[uuid.UUID, tuple[AttemptContext, asyncio.Task[None]]] = {}
        self.claims = ClaimLedger(app.clock)
        self._stop_requested: asyncio.Event | None = None
        self._stopping: asyncio.Event | None = None  # stop claiming
        self._closed: asyncio.Event | None = None  # running jobs settled: stop maintenance
        self._tasks: list[asyncio.Task[Any]] = []
        self._background: set[asyncio.Task[Any]] = set()
        self._remove_wakeup: Callable[[], None] | None = None
        self._db_pool: ThreadPoolExecutor | None = None
        self._job_pool: ThreadPoolExecutor | None = None
        self._completer: Completer | None = None
        self._executor: Executor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- public control ------------------------------------------------------------
    def run_sync(self) -> None:
        """Run until SIGTERM/SIGINT; a second signal skips the grace period."""
        asyncio.run(self.run(install_signals=True))

    async def run(self, *, install_signals: bool = False) -> None:
        """Start, then run until stopped: how a process is given over to a worker."""
        await self.start()
        freeze_startup_heap()
        assert self._stop_requested is not None
        if install_signals:
            self._install_signals()
        try:
            await self._stop_requested.wait()
        finally:
            await self.shutdown()

    def request_stop(self) -> None:
        """Ask a running worker to shut down gracefully (thread-safe)."""
        if self._loop is not None and self._stop_requested is not None:
            self._loop.call_soon_threadsafe(self._stop_requested.set)

    async def start(self, *, maintenance: bool = True, produce: bool = True) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_requested = asyncio.Event()
        self._stopping, self._closed = asyncio.Event(), asyncio.Event()
        sqlite = self.app.store.dialect == "sqlite"
        self._db_pool = ThreadPoolExecutor(1 if sqlite else 4, thread_name_prefix="taskward-db")
        try:
            await self.db(self.app.check_schema)
        except BaseException:
            self._db_pool.shutdown(wait=False)
            raise
        most = (
            {q: self.autoscaler.most(q, n) for q, n in self.queues.items()}
            if self.autoscaler
            else self.queues
        )
        self._job_pool = ThreadPoolExecutor(
            max(1, sum(most.values())), thread_name_prefix="taskward-job"
        )
        self._executor = Executor(self.app.clock, self._job_pool, self.middleware)
        self._completer = Completer(
            connect=self.app.connect,
            store=self.app.store,
            clock=self.app.clock,
            worker_id=self.id,
            run_in_db=self.db,
            emit=self.app.emit,
        )
        self._completer.start()
        await self.db(self.maintenance.register)
        self.app.bus.emit(
            [WorkerStarted(at=self.app.clock.now(), worker_id=self.id, queues=dict(self.queues))]
        )
        self._remove_wakeup = self.app.add_wakeup(self._wake_threadsafe)
        if produce:
            self._tasks += [
                asyncio.create_task(self._produce(r), name=f"taskward-claim-{r.name}")
                for r in self.runners.values()
            ]
        if maintenance:
            # Heartbeats, cancel checks and wake-ups go on while shutdown drains the
            # running jobs: a silent worker would have them rescued and run twice.
            self.loops = self.maintenance.loops()
            for loop in self.loops:
                loop.on_run = self._loop_ran
            self._tasks += [
                asyncio.create_task(
                    loop.run(self._closed, lambda: self.is_leader), name=f"taskward-{loop.name}"
                )
                for loop in self.loops
            ]
            if self.listen:
                self._tasks.append(asyncio.create_task(self._listen(), name="taskward-wakeup"))
        log.info(
            "worker %s started on %s (queues: %s)",
            self.id,
            self.app.url,
            ", ".join(f"{q}={n}" for q, n in self.queues.items()),
        )

    async def shutdown(self, grace: float | None = None) -> None:
        """Stop claiming, let running jobs finish for ``grace`` seconds, hand back the rest.

        Writing the outcomes gets as long again (at least ``MIN_SETTLE_WAIT``): with
        the database gone, the worker exits and the rescuer settles it later.
        """
        assert self._stopping is not None
        assert self._closed is not None
        assert self._completer is not None
        if self._closed.is_set():
            return
        grace = self.shutdown_grace if grace is None else grace
        self._stopping.set()
        for runner in self.runners.values():
            runner.wake.set()
        running = [task for _, task in self._attempts.values()]
        if running:
            log.info("waiting up to %.0fs for %d running jobs", grace, len(running))
            _, late = await asyncio.wait(running, timeout=grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        await self._completer.close(within=max(grace, MIN_SETTLE_WAIT))
        self._closed.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.db(self.maintenance.unregister)
        if self._remove_wakeup is not None:
            self._remove_wakeup()
        self.app.bus.emit([WorkerStopped(at=self.app.clock.now(), worker_id=self.id)])
        assert self._db_pool is not None
        assert self._job_pool is not None
        self._db_pool.shutdown(wait=True)
        self._job_pool.shutdown(wait=False, cancel_futures=True)
        log.info("worker %s stopped", self.id)

    async def drain(self, *, with_scheduled: bool = False) -> None:
        """Run the queues to empty, then return (tests and scripts). Retries due later wait."""
        await self.start(maintenance=False, produce=False)
        try:
            while True:
                staged = await self.db(self.maintenance.stage, with_scheduled)
                started: list[JobStarted] = []
                for runner in self.runners.values():
                    started += await self.db(self._claim, runner.name, runner.limit)
                if not started and not staged:
                    break
                self.app.emit(started)
                spawned = [self._spawn(self.runners[s.job.queue], s) for s in started]
                await asyncio.gather(*[t for t in spawned if t is not None])
                assert self._completer is not None
                await self._completer.flush()
        finally:
            await self.shutdown()

    def cancel_running(self, job_id: uuid.UUID) -> bool:
        """Stop a job this worker is running (the attempt ends ``cancelled``)."""
        entry = self._attempts.get(job_id)
        if entry is None:
            return False
        ctx, task = entry
        if not ctx.cancel_requested.is_set():
            ctx.cancel_requested.set()
            task.cancel()
        return True

    @property
    def running(self) -> dict[str, int]:
        """Slots taken per queue (a timed-out sync handler's thread still holds one)."""
        return {name: r.running for name, r in self.runners.items()}

    @property
    def running_job_ids(self) -> set[uuid.UUID]:
        return set(self._attempts)

    @property
    def is_leader(self) -> bool:
        """Whether this worker holds the leader lease (runs the rescuer)."""
        return self.maintenance.is_leader

    # -- claiming and running ------------------------------------------------------
    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking database work off the event loop."""
        assert self._loop is not None
        return await self._loop.run_in_executor(self._db_pool, functools.partial(fn, *args))

    async def _produce(self, runner: QueueRunner) -> None:
        assert self._stopping is not None
        delay = 0.1
        while not self._stopping.is_set():
            runner.wake.clear()
            free = runner.limit - runner.running
            if free > 0 and runner.name not in self.paused:
                want = min(free, self.claim_batch)
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
        with self.claims.claiming():
            started = await self.db(self._claim, runner.name, want)
            if self._stopping is not None and self._stopping.is_set():
                for s in started:  # claimed while shutting down: hand straight back
                    self.completer.settle(s.job, None)
            elif started:
                self.app.emit(started)
                for s in started:
                    self._spawn(runner, s)
        return started

    def _idle_wait(self, queue: str) -> float:
        """The poll interval, or less when a rate limit holding jobs has a token soon."""
        hint = self.app.limits.retry_after(queue)
        return self.poll_interval if hint is None else min(self.poll_interval, max(hint, 0.005))

    def _spawn(self, runner: QueueRunner, started: JobStarted) -> asyncio.Task[None] | None:
        """Start the attempt; a job of a task this worker does not know is failed at once
        (and settled in this same step, so it is never unaccounted for)."""
        job = started.job
        task = self.app.tasks.get(job.task)
        if task is None:
            outcome = unknown_task(job, list(self.app.tasks), self.app.clock.now())
            self.completer.settle(job, outcome)
            return None
        runner.running += 1
        ctx = AttemptContext(
            job=job, task=task, worker_id=self.id, report_progress=self._report_progress
        )
        t = asyncio.create_task(self._attempt(runner, ctx))
        self._attempts[job.id] = (ctx, t)
        return t

    async def _attempt(self, runner: QueueRunner, ctx: AttemptContext) -> None:
        completer, executor = self.completer, self._executor
        assert executor is not None
        try:
            try:
                outcome = await executor.execute(ctx)
            except asyncio.CancelledError:
                completer.settle(ctx.job, None)  # shutdown: hand the job back
                return
            completer.settle(ctx.job, outcome)
            if ctx.lingering is not None:  # the thread still runs: keep its slot until it ends
                with contextlib.suppress(BaseException):
                    await asyncio.wrap_future(ctx.lingering)
        finally:
            if self._attempts.get(ctx.job.id, (None,))[0] is ctx:  # not a later re-claim's
                del self._attempts[ctx.job.id]
            runner.running -= 1
            runner.wake.set()

    def _report_progress(self, job: Job, progress: dict[str, Any]) -> None:
        """Hand progress to the completer on the loop (sync handlers call from a thread)."""
        completer = self.completer
        try:
            on_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            completer.progress(job, progress)
        elif self._loop is not None:
            self._loop.call_soon_threadsafe(completer.progress, job, progress)

    def _loop_ran(self, loop: Loop, took: float, result: object, error: Exception | None) -> None:
        """Report a maintenance run on the spine (its span, its last-success time)."""
        moved = result if isinstance(result, list) else []
        self.app.bus.emit(
            [
                MaintenanceRan(
                    at=self.app.clock.now(),
                    kind=loop.name,
                    worker_id=self.id,
                    duration=took,
                    jobs=tuple(e.job for e in moved if isinstance(e, JobEvent)),
                    error=type(error).__name__ if error else None,
                )
            ]
        )

    @property
    def completer(self) -> Completer:
        """The settlement batcher (exists once started)."""
        assert self._completer is not None
        return self._completer

    # -- database steps (run in the db pool) ---------------------------------------
    def _claim(self, queue: str, limit: int) -> list[JobStarted]:
        began, claimed, error = time.perf_counter(), [], None
        try:
            with self.app.connect() as conn:
                claimed = self.app.store.claim(conn, queue, self.id, limit, self.app.clock.now())
        except Exception as exc:
            error = type(exc).__name__
            raise
        finally:  # claim metrics come from the spine, like everything else
            took = time.perf_counter() - began
            self.app.bus.emit(
                [
                    QueueClaimed(
                        at=self.app.clock.now(),
                        queue=queue,
                        worker_id=self.id,
                        count=len(claimed),
                        duration=took,
                        error=error,
                    )
                ]
            )
        return claimed

    # -- maintenance and wake-ups --------------------------------------------------
    async def _listen(self) -> None:
        assert self._closed is not None
        url = self.app.engine.url
        if self.app.store.dialect == "postgresql":
            await listen_postgres(
                url, self._wake, self.cancel_running, self._closed, self._recheck_cancellations
            )
        elif url.database and url.database != ":memory:":
            await watch_sqlite(url.database, self._wake, self._closed)

    def _recheck_cancellations(self) -> None:
        cancel_check = next(loop for loop in self.loops if loop.name == "cancel-check")
        task = asyncio.create_task(cancel_check.run_once())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _wake(self, queues: set[str] | None) -> None:
        for name, runner in self.runners.items():
            if queues is None or name in queues:
                runner.wake.set()

    def _wake_threadsafe(self, queues: set[str]) -> None:
        if self._loop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._wake, queues)

    def _install_signals(self) -> None:
        assert self._loop is not None
        assert self._stop_requested is not None
        stop, loop = self._stop_requested, self._loop
        first_signal_at: float | None = None

        def on_signal(signum: int) -> None:
            # A second signal skips the grace period, but not one arriving within a second of
            # the first: `uv run` forwards the terminal's Ctrl-C that the worker already got.
            nonlocal first_signal_at
            now = time.monotonic()
            if first_signal_at is not None and now - first_signal_at < REPEAT_SIGNAL_WINDOW:
                return
            if first_signal_at is None:
                first_signal_at = now
                log.info(
                    "received %s: finishing running jobs (again to hand them back now)",
                    signal.Signals(signum).name,
                )
                stop.set()
            else:
                self.shutdown_grace = 0
                for _, task in list(self._attempts.values()):
                    task.cancel()

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal, sig)


def _normalise_queues(queues: Mapping[str, int] | Iterable[str] | None) -> dict[str, int]:
    if queues is None:
        return {"default": 10}
    result = dict(queues) if isinstance(queues, Mapping) else dict.fromkeys(queues, 10)
    for name, limit in result.items():
        if not isinstance(limit, int) or limit < 1:
            raise ValueError(
                f"queue {name!r}: concurrency must be a positive integer, got {limit!r}"
            )
    if not result:
        raise ValueError("a worker needs at least one queue")
    return result


def _reason(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
