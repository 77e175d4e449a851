"""``[retention]``: how long finished jobs are kept, per state and per queue."""

from __future__ import annotations

from taskward.ops.config._types import Duration
from taskward.ops.config.sections._base import Section


class RetentionAges(Section):
    """Ages after which finished jobs are pruned; unset inherits the default."""

    completed: Duration | None = None
    cancelled: Duration | None = None
    discarded: Duration | None = None


class RetentionSection(Section):
    completed: Duration = 86400.0
    """Completed jobs are deleted (with attempts, logs and events) after this age."""
    cancelled: Duration = 86400.0
    """Cancelled jobs are deleted after this age."""
    discarded: Duration = 604800.0
    """Discarded jobs are kept longer, to be looked at."""
    queues: dict[str, RetentionAges] = {}
    """Per-queue ages: ``[retention.queues.billing] discarded = "30d"``."""

    def age(self, queue: str, state: str) -> float:
        """The retention age of ``state`` jobs in ``queue``, its override else the default."""
        override = getattr(self.queues.get(queue, RetentionAges()), state)
        return float(override if override is not None else getattr(self, state))
