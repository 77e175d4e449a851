"""Backoff strategies as values, and the pure retry decision (no database)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from taskward.core import (
    Constant,
    Exponential,
    FakeClock,
    Fibonacci,
    JobState,
    Linear,
    RetryPolicy,
    Taskward,
)
from taskward.core.testing import drain


def test_exponential_grows_by_its_factor_and_stops_at_the_cap() -> None:
    backoff = Exponential(base=2, factor=3, cap=100, jitter=0)
    assert [backoff(n) for n in range(1, 7)] == [2, 6, 18, 54, 100, 100]
    assert backoff(10_000) == 100  # no overflow on absurd attempt numbers


def test_exponential_jitter_stays_within_its_bounds_and_under_the_cap() -> None:
    backoff = Exponential(base=10, factor=2, cap=50, jitter=0.2, rng=random.Random(7))
    samples = [backoff(2) for _ in range(500)]
    assert all(16 <= s <= 24 for s in samples)
    assert len(set(samples)) > 100  # it really varies
    capped = [backoff(9) for _ in range(500)]
    assert all(40 <= s <= 50 for s in capped)


def test_linear_fibonacci_and_constant() -> None:
    assert [Linear(step=5, start=1, cap=17)(n) for n in range(1, 6)] == [1, 6, 11, 16, 17]
    assert [Fibonacci(base=2, cap=20)(n) for n in range(1, 8)] == [2, 2, 4, 6, 10, 16, 20]
    assert Fibonacci(base=1, cap=60)(500) == 60
    assert {Constant(7)(n) for n in range(1, 20)} == {7}


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: Exponential(base=-1), "base"),
        (lambda: Exponential(cap=-5), "cap"),
        (lambda: Exponential(jitter=-0.1), "jitter"),
        (lambda: Exponential(factor=0.5), "factor"),
        (lambda: Linear(step=-1), "step"),
        (lambda: Linear(start=-1), "start"),
        (lambda: Fibonacci(base=-2), "base"),
        (lambda: Constant(-3), "delay"),
    ],
)
def test_invalid_values_raise_naming_the_field(make: object, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        make()  # type: ignore[operator]


def test_a_custom_callable_is_a_strategy_and_negative_delays_become_zero() -> None:
    policy = RetryPolicy(backoff=lambda attempt: attempt * 1.5)
    assert [policy.delay(n) for n in (1, 2, 4)] == [1.5, 3.0, 6.0]
    assert RetryPolicy(backoff=lambda _attempt: -10).delay(1) == 0.0


def test_retry_decision() -> None:
    policy = RetryPolicy(retry_on=(OSError,), never_retry_on=(FileNotFoundError,))
    assert policy.should_retry(ConnectionError(), 1, 3)
    assert not policy.should_retry(FileNotFoundError(), 1, 3)  # never wins over retry_on
    assert not policy.should_retry(ValueError(), 1, 3)
    assert not policy.should_retry(ConnectionError(), 3, 3)


def test_a_custom_backoff_drives_the_worker(clocked_app: Taskward, clock: FakeClock) -> None:
    app = clocked_app

    @app.task(max_attempts=4, backoff=lambda attempt: 100 * attempt)
    def fails() -> None:
        raise RuntimeError("again")

    job = fails.enqueue()
    for attempt in (1, 2, 3):
        drain(app)
        waiting = app.get_job(job.id)
        assert waiting.state is JobState.RETRYABLE
        assert waiting.scheduled_at == clock.now() + timedelta(seconds=100 * attempt)
        clock.advance(100 * attempt)
    drain(app)
    assert app.get_job(job.id).state is JobState.DISCARDED
