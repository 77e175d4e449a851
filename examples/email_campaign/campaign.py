"""An email campaign: 10,000 sends through a provider that allows so many a second.

The rate limit lives in taskward.toml (`[queues.emails.limit]`): it is kept in the
database and applied inside each claim, so any number of workers share it, and a
held send waits as `available` (it never fails for being limited). Addresses that
bounce are discarded at once (`never_retry_on`); a digest job, run after the
campaign, sums the failures up in one message rather than one per bounce.
"""

import logging
import os
from collections import Counter

from taskward.core import Taskward

log = logging.getLogger("campaign")
app = Taskward(os.environ.get("TASKWARD_DATABASE_URL", "sqlite:///.taskward/campaign.db"))


class BouncedError(Exception):
    """The provider refused the address: retrying will not help."""


@app.task(name="campaign.send", queue="emails", never_retry_on=(BouncedError,))
def send(campaign: str, address: str) -> None:
    if address.startswith("bounce"):
        raise BouncedError(f"{address}: mailbox unavailable")
    log.debug("sent %s to %s", campaign, address)


@app.task(name="campaign.digest")
def digest(campaign: str) -> str:
    """One message for all of the campaign's failures (the on-call reads one, not 100)."""
    failed = [j for j in app.list_jobs(task="campaign.send", state="discarded", limit=100_000)
              if j.args[0] == campaign]  # fmt: skip
    reasons = Counter((j.errors[-1]["type"] if j.errors else "unknown") for j in failed)
    summary = ", ".join(f"{n} x {reason}" for reason, n in reasons.most_common())
    message = f"campaign {campaign}: {len(failed)} sends failed ({summary or 'none'})"
    log.warning(message)
    return message


def addresses(count: int) -> list[str]:
    """Every 97th address bounces."""
    return [f"{'bounce' if n % 97 == 0 else 'reader'}{n}@example.com" for n in range(count)]
