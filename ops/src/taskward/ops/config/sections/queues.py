"""``[queues.NAME]``: a queue's concurrency, pause state and limits."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, model_validator

from taskward.ops.config._types import Duration, PositiveInt, Priority, expected
from taskward.ops.config.sections._base import Section


class LimitSection(Section):
    """A rate limit and/or a concurrency cap, enforced across every worker.

    ``{ rate = 100, per = "1m" }``: at most 100 job starts a minute;
    ``{ concurrency = 5 }``: at most 5 running at once on all workers together.
    """

    rate: PositiveInt | None = None
    """Job starts allowed per ``per``."""
    per: Annotated[Duration, Field(gt=0)] = 1.0
    """The period of ``rate``."""
    burst: PositiveInt | None = None
    """Starts allowed at once after an idle spell (default: ``rate``)."""
    concurrency: PositiveInt | None = None
    """Jobs of this scope running at once, on all workers together."""
    by: str | int | None = None
    """Limit per value of this keyword argument (or positional index), e.g. ``"customer_id"``."""
    bypass_priority: Priority | None = None
    """Jobs at this priority or higher (0 is highest) skip the rate limit."""

    @model_validator(mode="after")
    def _something_to_enforce(self) -> Self:
        if self.rate is None and self.concurrency is None:
            raise expected("a limit with rate, concurrency or both")
        if self.bypass_priority is not None and self.rate is None:
            raise expected("bypass_priority only together with rate")
        return self


class QueueSection(Section):
    concurrency: PositiveInt | None = None
    """Jobs of this queue one worker runs at once (default: ``[worker] concurrency``)."""
    paused: bool | None = None
    """``true`` pauses the queue on every worker, ``false`` resumes it; unset leaves the
    state an operator set with ``taskward queues pause`` alone."""
    limit: LimitSection | None = None
    """Rate limit and/or concurrency cap over the whole queue."""
