"""Using the library never changes a host application's garbage collector (issue 11,
item 6); ``taskward.core.manage_gc()``, which the ``taskward`` command calls, does."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def _host(url: str, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.core.host_gc", url, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_import_build_enqueue_and_run_leave_the_hosts_gc_alone(database_url: str) -> None:
    seen = _host(database_url)
    assert seen["ran"] == 2000
    assert seen["during_batch"] == [True]  # a 2,000-job batch did not switch it off
    assert seen["after"] == seen["before"]  # enabled, thresholds, nothing frozen
    assert seen["before"]["frozen"] == 0


def test_a_process_taskward_manages_defers_and_freezes(sqlite_database: str) -> None:
    seen = _host(sqlite_database, "managed")
    assert seen["during_batch"] == [False]  # deferred while the batch was built
    assert seen["after"]["enabled"] and seen["after"]["frozen"] > 0  # the worker froze its heap
