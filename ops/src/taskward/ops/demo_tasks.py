"""The tasks `taskward demo` runs: one for each way a job can end.

``greet`` completes, ``charge`` fails twice and then completes, ``render_report``
times out on every attempt and is discarded, ``import_rows`` hits an error that is
never retried and is discarded at once, and ``apply_coupon`` cancels itself.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

from taskward.core import Cancel, Constant, JobSpec, Task, Taskward, current_attempt


class GatewayUnavailableError(ConnectionError):
    """The (pretend) payment gateway did not answer."""


@dataclass(frozen=True, slots=True)
class DemoTasks:
    greet: Task[Any, Any]
    charge: Task[Any, Any]
    render_report: Task[Any, Any]
    import_rows: Task[Any, Any]
    apply_coupon: Task[Any, Any]

    def batch(self) -> list[JobSpec]:
        """One job of every kind (and a few greetings)."""
        return [
            self.greet.spec("Ada"),
            self.greet.spec("Grace"),
            self.charge.spec(order=1042, cents=1999),
            self.render_report.spec("monthly"),
            self.import_rows.spec("customers.csv"),
            self.apply_coupon.spec("SPRING-2020"),
            self.greet.spec("Linus"),
        ]

    def a_few(self, rng: random.Random, n: int = 3) -> list[JobSpec]:
        """``n`` jobs picked at random from a batch, for the demo's steady trickle."""
        return rng.sample(self.batch(), n)


def register(app: Taskward) -> DemoTasks:
    """Register the demo tasks on ``app``."""

    @app.task(name="demo.greet")
    def greet(name: str) -> str:
        return f"hello, {name}"

    @app.task(name="demo.charge", queue="payments", max_attempts=5, backoff=Constant(0.5))
    def charge(order: int, cents: int) -> dict[str, Any]:
        attempt = current_attempt().job.attempt
        if attempt <= 2:
            raise GatewayUnavailableError(f"payment gateway timed out (attempt {attempt})")
        return {"order": order, "charged_cents": cents}

    @app.task(
        name="demo.render_report",
        queue="reports",
        timeout=0.5,
        max_attempts=2,
        backoff=Constant(0.5),
    )
    async def render_report(period: str) -> str:
        await asyncio.sleep(30)  # far longer than the timeout: every attempt times out
        return f"{period} report"

    @app.task(name="demo.import_rows", never_retry_on=(ValueError,))
    def import_rows(path: str) -> int:
        raise ValueError(f"{path}, row 3: 'twelve' is not a number")

    @app.task(name="demo.apply_coupon")
    def apply_coupon(code: str) -> None:
        raise Cancel(f"coupon {code} has expired")

    return DemoTasks(greet, charge, render_report, import_rows, apply_coupon)
