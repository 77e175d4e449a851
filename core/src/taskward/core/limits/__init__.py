"""Rate limits and concurrency caps, enforced at claim time across every worker.

Limits live in the database (token buckets, counts of executing jobs) and are
read and updated inside the claim's transaction, so any number of workers on
any number of hosts share them. A limited job waits in ``available``; it never
fails for being limited, and each wait is reported as a ``JobRateLimited`` event.
"""

from taskward.core.limits.limiter import Limits
from taskward.core.limits.spec import Limit, Rate

__all__ = ["Limit", "Limits", "Rate"]
