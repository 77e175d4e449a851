"""The worker: claims jobs in batches, runs them on asyncio, settles them in batches.

Async handlers run on the event loop, sync handlers in a thread pool sized to
the total concurrency. Database work runs on a small thread pool of its own
(one thread on SQLite, where there is one writer anyway). The worker is given
what it runs against (a :class:`~taskward.core.ports.Runtime`, the app) and the
plugins whose loops it runs; it never reaches for more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from taskward.core._gc import freeze_startup_heap
from taskward.core.events import JobStarted, WorkerStarted, WorkerStopped
from taskward.core.limits.autoscale import Autoscale
from taskward.core.loops import Loop
from taskward.core.ports import Plugin, Runtime
from taskward.core.worker import signals
from taskward.core.worker.autoscaler import Autoscaler
from taskward.core.worker.claims import ClaimLedger
from taskward.core.worker.completer import Completer
from taskward.core.worker.duties import duties
from taskward.core.worker.executor import Executor, Middleware
from taskward.core.worker.maintenance import Maintenance
from taskward.core.worker.pools import Pools
from taskward.core.worker.producer import Producer
from taskward.core.worker.runner import QueueRunner, normalise_queues
from taskward.core.worker.watch import JobWatch

log = logging.getLogger("taskward.core.worker")
T = TypeVar("T")

#: Seconds a shutdown waits at least for its outcomes to be written.
MIN_SETTLE_WAIT = 5.0


class Worker:
    """Runs jobs from ``queues`` until stopped. See ``Taskward.worker``."""

    def __init__(
        self,
        runtime: Runtime,
        queues: Mapping[str, int] | Iterable[str] | None = None,
        *,
        plugins: Sequence[Plugin] = (),
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
        self.runtime = runtime
        self.plugins = tuple(plugins)
        self.queues = normalise_queues(queues)
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"
        self.poll_interval = poll_interval
        self.heartbeat_interval = heartbeat_interval
        self.rescue_after = rescue_after or 6 * heartbeat_interval
        self.stage_interval = stage_interval
        self.cancel_check_interval = cancel_check_interval
        self.shutdown_grace = shutdown_grace
        self.claim_batch = claim_batch
        self.middleware = list(middleware)
        self.listen = listen
        self.maintenance = Maintenance(
            runtime, worker_id=self.id, queues=self.queues, rescue_after=self.rescue_after
        )
        self.loops: list[Loop] = []
        self.runners = {name: QueueRunner(name, limit) for name, limit in self.queues.items()}
        #: Queues whose concurrency follows their backlog (``autoscale={queue: Autoscale}``).
        self.autoscaler = Autoscaler(runtime, self.runners, autoscale) if autoscale else None
        self.claims = ClaimLedger(runtime.clock)
        self._stop_requested: asyncio.Event | None = None
        self._stopping: asyncio.Event | None = None  # stop claiming
        self._closed: asyncio.Event | None = None  # running jobs settled: stop maintenance
        self._tasks: list[asyncio.Task[Any]] = []
        self._background: set[asyncio.Task[Any]] = set()
        self._remove_wakeup: Callable[[], None] | None = None
        self._pools: Pools | None = None
        self._producer: Producer | None = None
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
            assert self._loop is not None
            signals.install_signals(self._loop, self._stop_requested, self._hurry)
        try:
            await self._stop_requested.wait()
        finally:
            await self.shutdown()

    def request_stop(self) -> None:
        """Ask a running worker to shut down gracefully (thread-safe)."""
        if self._loop is not None and self._stop_requested is not None:
            self._loop.call_soon_threadsafe(self._stop_requested.set)

    async def start(self, *, maintenance: bool = True, produce: bool = True) -> None:
        rt = self.runtime
        self._loop = asyncio.get_running_loop()
        self._stop_requested = asyncio.Event()
        self._stopping, self._closed = asyncio.Event(), asyncio.Event()
        scaler = self.autoscaler
        most = {q: scaler.most(q, n) for q, n in self.queues.items()} if scaler else self.queues
        self._pools = Pools(sqlite=rt.store.dialect == "sqlite", jobs=sum(most.values()))
        try:
            await self.db(rt.check_schema)
        except BaseException:
            self._pools.close(wait=False)
            raise
        self._producer = Producer(
            runtime=rt,
            worker_id=self.id,
            runners=self.runners,
            claims=self.claims,
            executor=Executor(rt.clock, self._pools.jobs, self.middleware),
            offload=self.db,
            stopping=self._stopping,
            paused=lambda: self.maintenance.paused,
            claim_batch=self.claim_batch,
            poll_interval=self.poll_interval,
            plugins=self.plugins,
        )
        await self.db(self.maintenance.register)
        rt.emit([WorkerStarted(at=rt.clock.now(), worker_id=self.id, queues=dict(self.queues))])
        self._remove_wakeup = rt.add_wakeup(self._producer.wake_threadsafe)
        if produce:
            self._tasks += [
                asyncio.create_task(self._producer.produce(r), name=f"taskward-claim-{r.name}")
                for r in self.runners.values()
            ]
        if maintenance:
            # Heartbeats, cancel checks and wake-ups go on while shutdown drains the
            # running jobs: a silent worker would have them rescued and run twice.
            watch = JobWatch(rt, self.id, self._producer, self.claims, self.db)
            self.loops = duties(
                rt,
                self.maintenance,
                watch,
                plugins=self.plugins,
                autoscaler=self.autoscaler,
                offload=self.db,
                intervals=(
                    self.heartbeat_interval,
                    self.stage_interval,
                    self.cancel_check_interval,
                ),
            )
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
            rt.url,
            ", ".join(f"{q}={n}" for q, n in self.queues.items()),
        )

    async def shutdown(self, grace: float | None = None) -> None:
        """Stop claiming, let running jobs finish for ``grace`` seconds, hand back the rest.

        Writing the outcomes gets as long again (at least ``MIN_SETTLE_WAIT``): with
        the database gone, the worker exits and the rescuer settles it later.
        """
        assert self._stopping is not None
        assert self._closed is not None
        if self._closed.is_set():
            return
        grace = self.shutdown_grace if grace is None else grace
        self._stopping.set()
        for runner in self.runners.values():
            runner.wake.set()
        running = [task for _, task in self.producer.attempts.values()]
        if running:
            log.info("waiting up to %.0fs for %d running jobs", grace, len(running))
            _, late = await asyncio.wait(running, timeout=grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        await self.completer.close(within=max(grace, MIN_SETTLE_WAIT))
        self._closed.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.db(self.maintenance.unregister)
        if self._remove_wakeup is not None:
            self._remove_wakeup()
        self.runtime.emit([WorkerStopped(at=self.runtime.clock.now(), worker_id=self.id)])
        assert self._pools is not None
        self._pools.close()
        log.info("worker %s stopped", self.id)

    async def drain(self, *, with_scheduled: bool = False) -> None:
        """Run the queues to empty, then return (tests and scripts). Retries due later wait."""
        await self.start(maintenance=False, produce=False)
        producer = self.producer
        try:
            while True:
                staged = await self.db(self.maintenance.stage, with_scheduled)
                started: list[JobStarted] = []
                for runner in self.runners.values():
                    started += await self.db(producer.claim, runner.name, runner.limit)
                if not started and not staged:
                    break
                self.runtime.emit(started)
                spawned = [producer.spawn(s) for s in started]
                await asyncio.gather(*[t for t in spawned if t is not None])
                await self.completer.flush()
        finally:
            await self.shutdown()

    def cancel_running(self, job_id: uuid.UUID) -> bool:
        """Stop a job this worker is running (the attempt ends ``cancelled``)."""
        return self._producer is not None and self._producer.cancel(job_id)

    @property
    def running(self) -> dict[str, int]:
        """Slots taken per queue (a timed-out sync handler's thread still holds one)."""
        return {name: r.running for name, r in self.runners.items()}

    @property
    def running_job_ids(self) -> set[uuid.UUID]:
        return set(self._producer.attempts) if self._producer is not None else set()

    @property
    def paused(self) -> frozenset[str]:
        """Queues paused cluster-wide, as of the last heartbeat."""
        return self.maintenance.paused

    @property
    def is_leader(self) -> bool:
        """Whether this worker holds the leader lease (runs the rescuer)."""
        return self.maintenance.is_leader

    @property
    def completer(self) -> Completer:
        """The settlement batcher (exists once started)."""
        return self.producer.completer

    @property
    def producer(self) -> Producer:
        """The claim loops and running attempts (exist once started)."""
        assert self._producer is not None
        return self._producer

    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking database work off the event loop."""
        assert self._pools is not None
        return await self._pools.db(fn, *args)

    # -- maintenance and wake-ups --------------------------------------------------
    async def _listen(self) -> None:
        assert self._closed is not None
        producer = self.producer
        await self.runtime.store.listen(
            producer.wake, producer.cancel, self._closed, self._recheck_cancellations
        )

    def _recheck_cancellations(self) -> None:
        cancel_check = next(loop for loop in self.loops if loop.name == "cancel-check")
        task = asyncio.create_task(cancel_check.run_once())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _hurry(self) -> None:
        """A second signal: no grace period, running jobs handed back now."""
        self.shutdown_grace = 0
        for _, task in list(self.producer.attempts.values()):
            task.cancel()
