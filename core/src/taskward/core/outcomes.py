"""Control flow is not an error: values a task returns or raises to steer its job.

A task may ``return`` or ``raise`` any of :class:`Retry`, :class:`Snooze` and
:class:`Cancel`. They are not errors: no traceback is recorded for them beyond a
short note, and :class:`Snooze` does not use up an attempt.

The executor turns every attempt into one immutable :class:`Outcome`, which the
completer persists and the event spine reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from opentelemetry.trace import SpanContext


class Directive(Exception):  # noqa: N818 - a control value, not an error
    """Base of the values a task may return or raise to steer its job."""


class Retry(Directive):
    """Retry the job later; counts as an attempt (``max_attempts`` still applies)."""

    def __init__(self, in_: float | None = None, *, reason: str = "retry requested") -> None:
        super().__init__(reason)
        self.in_ = in_
        self.reason = reason


class Snooze(Directive):
    """Run the job again in ``in_`` seconds without using up an attempt."""

    def __init__(self, in_: float) -> None:
        if in_ < 0:
            raise ValueError("Snooze(in_) must not be negative")
        super().__init__(f"snoozed for {in_:g}s")
        self.in_ = in_


class Cancel(Directive):
    """Stop the job for good, without error: it ends ``cancelled``."""

    def __init__(self, reason: str = "cancelled by the task") -> None:
        super().__init__(reason)
        self.reason = reason


OutcomeKind = Literal["completed", "retryable", "discarded", "cancelled", "snoozed"]


@dataclass(frozen=True, slots=True)
class ErrorRecord:
    """One failed attempt, as stored in the job's ``errors`` list."""

    attempt: int
    at: datetime
    type: str
    message: str
    traceback: str
    trace_id: str | None = None
    span_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "at": self.at.isoformat(),
            "type": self.type,
            "message": self.message,
            "traceback": self.traceback,
            "trace_id": self.trace_id,
            "span_id": self.span_id,
        }


@dataclass(frozen=True, slots=True)
class SpanRef:
    """An attempt's span, for telemetry that runs after the span ended.

    It keeps the span's context as it is and formats the ids only when they are
    read (on the metrics thread, or for a log row), not on every attempt.
    """

    context: SpanContext

    @property
    def trace_id(self) -> str:
        return format(self.context.trace_id, "032x")

    @property
    def span_id(self) -> str:
        return format(self.context.span_id, "016x")

    @property
    def sampled(self) -> bool:
        return self.context.trace_flags.sampled


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt came to; the retry policy already decided ``next_at``."""

    kind: OutcomeKind
    duration: float
    result: Any = None
    error: ErrorRecord | None = None
    next_at: datetime | None = None
    reason: str | None = None
    #: The attempt's span while the handler ran (None without a valid span).
    span: SpanRef | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None
