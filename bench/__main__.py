"""``python -m bench [SUITE ...] [--dialect D ...]``: run suites, print, save the figures."""

from __future__ import annotations

import argparse
import importlib
import logging
import time

from bench import results
from bench.databases import databases

#: Every suite, in the order a full run takes them: a module with ``run(dbs)``.
#: Add new ones here. Modules are imported only when their suite runs.
SUITES: dict[str, str] = {
    "enqueue": "bench.enqueue",
    "throughput": "bench.throughput",
    "pickup": "bench.pickup",
    "instrumentation": "bench.instrumentation",
    "limits": "bench.limits",
    "single": "bench.single",
    "retention": "bench.retention",
    "cli": "bench.cli",
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
                began = time.monotonic()
                importlib.import_module(SUITES[name]).run(dbs)
                print(f"  ({time.monotonic() - began:.0f} s)", flush=True)
    path = results.write()
    print(
        f"wrote {len(results.recorded())} records to {path} in {time.monotonic() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
