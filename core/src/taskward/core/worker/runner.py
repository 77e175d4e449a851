"""One queue's claim state in a worker: its concurrency, the slots taken, its wake-up."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(slots=True, eq=False)
class QueueRunner:
    """Claim state of one queue in this worker (event loop only)."""

    name: str
    limit: int
    running: int = 0
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def resize(self, limit: int) -> None:
        """Run at most ``limit`` jobs from now on (autoscaling); the claim loop looks again."""
        self.limit = limit
        self.wake.set()


def normalise_queues(queues: Mapping[str, int] | Iterable[str] | None) -> dict[str, int]:
    """Queue name -> concurrency, from a mapping or names (each at 10); checked."""
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
