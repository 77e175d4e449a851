"""``python -m bench [SUITE ...] [--dialect D ...]``: run suites, print, save the figures."""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable

from bench import enqueue, pickup, results, throughput
from bench.databases import Databases, databases

Suite = Callable[[Databases], None]

#: Every suite, in the order a full run takes them. Add new ones here.
SUITES: dict[str, Suite] = {
    "enqueue": enqueue.run,
    "throughput": throughput.run,
    "pickup": pickup.run,
}
DIALECTS = ("sqlite", "postgresql")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "suites",
        nargs="*",
        choices=[*SUITES, []],
        metavar="SUITE",
        help=f"suites to run (default: all of {', '.join(SUITES)})",
    )
    parser.add_argument(
        "--dialect",
        action="append",
        choices=DIALECTS,
        dest="dialects",
        help="only this dialect (repeatable; default: both)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    started = time.monotonic()
    for dialect in args.dialects or DIALECTS:
        with databases(dialect) as dbs:
            for name in args.suites or SUITES:
                print(f"{dialect} / {name}", flush=True)
                SUITES[name](dbs)
    path = results.write()
    print(
        f"wrote {len(results.recorded())} records to {path} in {time.monotonic() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
