"""Running one attempt: the middleware chain around the handler, ending in an Outcome.

Middleware wraps only what must stay on the call stack (trace span, log
capture); everything else subscribes to events. A middleware is
``async (ctx, call_next) -> Outcome``.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from opentelemetry import trace

from taskward.core.attempt import AttemptContext, reset_current, set_current
from taskward.core.clock import Clock
from taskward.core.errors import JobCancelledError, JobTimeoutError, UnknownTaskError
from taskward.core.job import Job
from taskward.core.outcomes import (
    Cancel,
    Directive,
    ErrorRecord,
    Outcome,
    Retry,
    Snooze,
    SpanRef,
)
from taskward.core.storable import check_storable, storable_text

log = logging.getLogger("taskward.core.worker")

CallNext = Callable[[], Awaitable[Outcome]]
Middleware = Callable[[AttemptContext, CallNext], Awaitable[Outcome]]


def error_type(exc: BaseException) -> str:
    """The exception's qualified class name (builtins unqualified), as metrics label it."""
    cls = type(exc)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def current_span_ref() -> SpanRef | None:
    """The current span (None without a valid span, e.g. no SDK installed)."""
    context = trace.get_current_span().get_span_context()
    return SpanRef(context) if context.is_valid else None


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
        """Run the handler. The outcome carries the span that was current around it:
        telemetry off the call stack (metrics exemplars on the bus thread) reads it
        from the finish event, where the span itself is no longer current."""
        span = current_span_ref()
        started = time.perf_counter()
        try:
            value = await self._call(ctx)
            if isinstance(value, Directive):
                raise value
            check_storable("result", value)
        except Directive as directive:
            return self.directive(ctx, directive, time.perf_counter() - started, span)
        except JobCancelledError as exc:
            duration = time.perf_counter() - started
            return Outcome("cancelled", duration, reason=str(exc), span=span)
        except Exception as exc:
            return self.failure(ctx, exc, time.perf_counter() - started, span)
        return Outcome("completed", time.perf_counter() - started, result=value, span=span)

    async def _call(self, ctx: AttemptContext) -> Any:
        job, fn = ctx.job, ctx.task.fn
        if ctx.task.is_async:
            return await _until_deadline(ctx, fn(*job.args, **job.kwargs))
        cfuture = self.pool.submit(contextvars.copy_context().run, fn, *job.args, **job.kwargs)
        return await _until_deadline(ctx, asyncio.wrap_future(cfuture), cfuture)

    def directive(
        self,
        ctx: AttemptContext,
        directive: Directive,
        duration: float,
        span: SpanRef | None = None,
    ) -> Outcome:
        now = self.clock.now()
        job = ctx.job
        if isinstance(directive, Cancel):
            return Outcome("cancelled", duration, reason=directive.reason, span=span)
        if isinstance(directive, Snooze):
            next_at = now + timedelta(seconds=directive.in_)
            return Outcome("snoozed", duration, next_at=next_at, span=span)
        assert isinstance(directive, Retry)
        if job.attempt >= job.max_attempts:
            return Outcome("discarded", duration, reason=directive.reason, span=span)
        delay = (
            directive.in_ if directive.in_ is not None else ctx.task.policy.retry.delay(job.attempt)
        )
        next_at = now + timedelta(seconds=delay)
        return Outcome("retryable", duration, next_at=next_at, reason=directive.reason, span=span)

    def failure(
        self, ctx: AttemptContext, exc: Exception, duration: float, span: SpanRef | None = None
    ) -> Outcome:
        """The failed attempt's outcome; its error entry names the attempt's span."""
        now = self.clock.now()
        job, policy = ctx.job, ctx.task.policy
        ref = span or current_span_ref()
        error = ErrorRecord(
            attempt=job.attempt,
            at=now,
            type=error_type(exc),
            message=storable_text(str(exc)[:2000]),
            traceback=storable_text("".join(traceback.format_exception(exc))[-8000:]),
            trace_id=ref.trace_id if ref is not None else None,
            span_id=ref.span_id if ref is not None else None,
        )
        if not policy.retry.should_retry(exc, job.attempt, job.max_attempts):
            return Outcome("discarded", duration, error=error, span=span)
        if policy.on_retry is not None:
            try:
                policy.on_retry(job, exc)
            except Exception:
                log.exception("on_retry hook of %s failed", job.task)
        next_at = now + timedelta(seconds=policy.retry.delay(job.attempt))
        return Outcome("retryable", duration, error=error, next_at=next_at, span=span)


UNKNOWN_TASK = "taskward.UnknownTask"
UNKNOWN_TASK_RETRY = timedelta(seconds=60)


def unknown_task(job: Job, known: list[str], now: datetime) -> Outcome:
    """A job whose task this worker does not know fails; another worker may know it."""
    error = ErrorRecord(
        attempt=job.attempt,
        at=now,
        type=UNKNOWN_TASK,
        message=str(UnknownTaskError(job.task, known)),
        traceback="",
    )
    if job.attempt >= job.max_attempts:
        return Outcome("discarded", 0.0, error=error)
    return Outcome("retryable", 0.0, error=error, next_at=now + UNKNOWN_TASK_RETRY)


def _wrap(mw: Middleware, ctx: AttemptContext, call_next: CallNext) -> CallNext:
    return lambda: mw(ctx, call_next)


async def _until_deadline(
    ctx: AttemptContext, work: Awaitable[Any], cfuture: Future[Any] | None = None
) -> Any:
    """Await the handler; at its timeout, or when the job is cancelled, stop waiting.

    The cancel flag is set before the handler is interrupted, so an async handler's
    cleanup (and a sync handler polling ``cancelled``) can tell. A sync handler's
    thread cannot be stopped: it is left running as ``ctx.lingering``. Only our own
    deadline becomes :class:`JobTimeoutError`; a ``TimeoutError`` the handler raises
    itself is an ordinary failure.
    """
    task = asyncio.current_task()
    assert task is not None
    timeout = ctx.job.timeout
    expired = False

    def expire() -> None:
        nonlocal expired
        if not ctx.cancel_requested.is_set():  # else a cancel is already on its way
            expired = True
            ctx.cancel_requested.set()
            task.cancel()

    deadline = asyncio.get_running_loop().call_later(timeout, expire) if timeout else None
    try:
        result = await work
    except asyncio.CancelledError:
        if cfuture is not None:
            ctx.lingering = _linger(cfuture)
        if not ctx.cancel_requested.is_set():
            raise  # worker shutdown: not ours to absorb
        task.uncancel()
        if expired:
            raise JobTimeoutError(timeout or 0) from None
        raise JobCancelledError("cancelled while running") from None
    finally:
        if deadline is not None:
            deadline.cancel()
    if expired:  # the handler swallowed its cancellation: still over time
        task.uncancel()
        raise JobTimeoutError(timeout or 0)
    return result


def _linger(cfuture: Future[Any]) -> Future[Any]:
    # The thread cannot be stopped; make sure its eventual error is not reported as unhandled.
    cfuture.add_done_callback(lambda f: f.cancelled() or f.exception())
    return cfuture
