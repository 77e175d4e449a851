"""A relay consumer process: ``python -m tests.core.relay_consumer URL NAME OUT [STALL_AT]``.

Reads batches of 10 as consumer NAME and appends each event id to OUT (one per
line, flushed) before acknowledging the batch. With STALL_AT, once OUT holds
that many ids it stops before acknowledging and waits to be killed.
"""

from __future__ import annotations

import sys
import time

from taskward.core.db import create_engine
from taskward.core.relay import EventRelay


def main() -> None:
    url, name, out = sys.argv[1:4]
    stall_at = int(sys.argv[4]) if len(sys.argv) > 4 else None
    relay = EventRelay(create_engine(url), name, batch=10, start="earliest", poll_interval=0.05)
    written = 0
    with open(out, "a") as sink:
        for events in relay:
            for event in events:
                sink.write(f"{event.id}\n")
            sink.flush()
            written += len(events)
            if stall_at is not None and written >= stall_at:
                time.sleep(3600)  # killed here: handled, never acknowledged
            relay.ack(events)


if __name__ == "__main__":
    main()
