"""Running one attempt: the middleware chain around the handler, ending in an Outcome.

Middleware wraps only what must stay on the call stack (trace span, log
capture); everything else subscribes to events. A middleware is
``async (ctx, call_next) -> Outcome``.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from opentelemetry import trace

from taskward.core.clock import Clock
from taskward.core.errors import JobCancelledError, JobTimeoutError
from taskward.core.outcomes import Cancel, Directive, ErrorRecord, Outcome, Retry, Snooze
from taskward.core.worker.context import AttemptContext, reset_current, set_current

log = logging.getLogger("taskward.core.worker")

CallNext = Callable[[], Awaitable[Outcome]]
Middleware = Callable[[AttemptContext, CallNext], Awaitable[Outcome]]


def error_type(exc: BaseException) -> str:
    """The exception's qualified class name (builtins unqualified), as metrics label it."""
    cls = type(exc)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


class Executor:
    """Turns an :class:`AttemptContext` into an :class:`Outcome`; never raises for the job."""

    def __init__(
        self, clock: Clock, pool: ThreadPoolExecutor, middleware: Sequence[Middleware] = ()
    ) -> None:
        self.clock = clock
        self.pool = pool
        self.middleware = list(middleware)

    async def execute(self, ctx: AttemptContext) -> Outcome:
        token = set_current(ctx)
        started = time.perf_counter()
        try:
            call: CallNext = lambda: self._invoke(ctx)  # noqa: E731
            for mw in reversed(self.middleware):
                call = _wrap(mw, ctx, call)
            return await call()
        except Exception as exc:  # a broken middleware must not lose the job
            log.exception("middleware failed for job %s", ctx.job.id)
            return self.failure(ctx, exc, time.perf_counter() - started)
        finally:
            reset_current(token)

    async def _invoke(self, ctx: AttemptContext) -> Outcome:
        started = time.perf_counter()
        try:
            value = await self._call(ctx)
            if isinstance(value, Directive):
                raise value
            json.dumps(value, allow_nan=False)
        except Directive as directive:
            return self.directive(ctx, directive, time.perf_counter() - started)
        except JobCancelledError as exc:
            return Outcome("cancelled", time.perf_counter() - started, reason=str(exc))
        except Exception as exc:
            return self.failure(ctx, exc, time.perf_counter() - started)
        return Outcome("completed", time.perf_counter() - started, result=value)

    async def _call(self, ctx: AttemptContext) -> Any:
        job, fn = ctx.job, ctx.task.fn
        timeout = job.timeout
        if ctx.task.is_async:
            try:
                async with asyncio.timeout(timeout):
                    return await fn(*job.args, **job.kwargs)
            except TimeoutError:
                ctx.cancel_requested.set()
                raise JobTimeoutError(timeout or 0) from None
            except asyncio.CancelledError:
                if _cancelled_on_request(ctx):
                    raise JobCancelledError("cancelled while running") from None
                raise
        cfuture = self.pool.submit(contextvars.copy_context().run, fn, *job.args, **job.kwargs)
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.wrap_future(cfuture)
        except TimeoutError:
            ctx.cancel_requested.set()
            ctx.lingering = _linger(cfuture)
            raise JobTimeoutError(timeout or 0) from None
        except asyncio.CancelledError:
            ctx.lingering = _linger(cfuture)
            if _cancelled_on_request(ctx):
                raise JobCancelledError("cancelled while running") from None
            raise

    def directive(self, ctx: AttemptContext, directive: Directive, duration: float) -> Outcome:
        now = self.clock.now()
        job = ctx.job
        if isinstance(directive, Cancel):
            return Outcome("cancelled", duration, reason=directive.reason)
        if isinstance(directive, Snooze):
            return Outcome("snoozed", duration, next_at=now + timedelta(seconds=directive.in_))
        assert isinstance(directive, Retry)
        if job.attempt >= job.max_attempts:
            return Outcome("discarded", duration, reason=directive.reason)
        delay = (
            directive.in_ if directive.in_ is not None else ctx.task.policy.retry.delay(job.attempt)
        )
        return Outcome(
            "retryable", duration, next_at=now + timedelta(seconds=delay), reason=directive.reason
        )

    def failure(self, ctx: AttemptContext, exc: Exception, duration: float) -> Outcome:
        now = self.clock.now()
        job, policy = ctx.job, ctx.task.policy
        span = trace.get_current_span().get_span_context()
        error = ErrorRecord(
            attempt=job.attempt,
            at=now,
            type=error_type(exc),
            message=str(exc)[:2000],
            traceback="".join(traceback.format_exception(exc))[-8000:],
            trace_id=format(span.trace_id, "032x") if span.is_valid else None,
            span_id=format(span.span_id, "016x") if span.is_valid else None,
        )
        if not policy.retry.should_retry(exc, job.attempt, job.max_attempts):
            return Outcome("discarded", duration, error=error)
        if policy.on_retry is not None:
            try:
                policy.on_retry(job, exc)
            except Exception:
                log.exception("on_retry hook of %s failed", job.task)
        next_at = now + timedelta(seconds=policy.retry.delay(job.attempt))
        return Outcome("retryable", duration, error=error, next_at=next_at)


def _wrap(mw: Middleware, ctx: AttemptContext, call_next: CallNext) -> CallNext:
    return lambda: mw(ctx, call_next)


def _cancelled_on_request(ctx: AttemptContext) -> bool:
    """A cancellation we asked for (job cancelled) rather than worker shutdown."""
    if not ctx.cancel_requested.is_set():
        return False
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()
    return True


def _linger(cfuture: Future[Any]) -> Future[Any]:
    # The thread cannot be stopped; make sure its eventual error is not reported as unhandled.
    cfuture.add_done_callback(lambda f: f.cancelled() or f.exception())
    return cfuture
