"""Backoff strategies as values, and the pure retry decision.

Every strategy maps the attempt number that just failed (1-based) to a delay in
seconds. A plain callable ``(attempt) -> seconds`` works wherever a strategy does.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class Backoff(Protocol):
    def __call__(self, attempt: int) -> float: ...


def _jittered(delay: float, jitter: float, rng: random.Random | None) -> float:
    if jitter <= 0:
        return delay
    spread = delay * jitter
    return max(0.0, delay + (rng or random).uniform(-spread, spread))


@dataclass(frozen=True, slots=True)
class Exponential:
    """``base * factor ** (attempt - 1)``, capped, with ±``jitter`` (a fraction) of noise."""

    base: float = 1.0
    factor: float = 2.0
    cap: float = 3600.0
    jitter: float = 0.1
    rng: random.Random | None = None

    def __post_init__(self) -> None:
        _check_non_negative(base=self.base, cap=self.cap, jitter=self.jitter)
        if self.factor < 1:
            raise ValueError(f"Exponential(factor={self.factor}): factor must be at least 1")

    def __call__(self, attempt: int) -> float:
        # Compute in log space first so huge attempt numbers cannot overflow.
        exponent = max(0, attempt - 1)
        delay = self.cap if exponent > 1024 else min(self.cap, self.base * self.factor**exponent)
        return min(self.cap, _jittered(delay, self.jitter, self.rng))


@dataclass(frozen=True, slots=True)
class Linear:
    """``start + step * (attempt - 1)``, capped."""

    step: float = 10.0
    start: float = 0.0
    cap: float = 3600.0

    def __post_init__(self) -> None:
        _check_non_negative(step=self.step, start=self.start, cap=self.cap)

    def __call__(self, attempt: int) -> float:
        return min(self.cap, self.start + self.step * max(0, attempt - 1))


@dataclass(frozen=True, slots=True)
class Fibonacci:
    """``base * fib(attempt)`` (1, 1, 2, 3, 5, …), capped."""

    base: float = 1.0
    cap: float = 3600.0

    def __post_init__(self) -> None:
        _check_non_negative(base=self.base, cap=self.cap)

    def __call__(self, attempt: int) -> float:
        a, b = 1, 1
        for _ in range(max(0, attempt - 1)):
            a, b = b, a + b
            if a * self.base >= self.cap:
                return self.cap
        return min(self.cap, a * self.base)


@dataclass(frozen=True, slots=True)
class Constant:
    """The same delay every time."""

    delay: float = 10.0

    def __post_init__(self) -> None:
        _check_non_negative(delay=self.delay)

    def __call__(self, attempt: int) -> float:
        return self.delay


def _check_non_negative(**values: float) -> None:
    for name, value in values.items():
        if value < 0:
            raise ValueError(f"backoff {name}={value}: must not be negative")


ExceptionTypes = tuple[type[BaseException], ...]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When to retry a failed attempt and how long to wait.

    ``retry_on`` (when given) lists the only exceptions worth retrying;
    ``never_retry_on`` lists exceptions that discard the job at once.
    """

    backoff: Backoff | Callable[[int], float] = Exponential()
    retry_on: ExceptionTypes | None = None
    never_retry_on: ExceptionTypes = ()

    def should_retry(self, error: BaseException, attempt: int, max_attempts: int) -> bool:
        if attempt >= max_attempts or isinstance(error, self.never_retry_on):
            return False
        return self.retry_on is None or isinstance(error, self.retry_on)

    def delay(self, attempt: int) -> float:
        return max(0.0, float(self.backoff(attempt)))
