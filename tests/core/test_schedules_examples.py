"""The README's examples of schedules, workflows and limits (docs/examples/), on both dialects."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
EXPECTED = {
    "schedules.py": [
        "inventory next: 2026-03-28T12:00:00+00:00",
        "nightly-report next: 2026-03-29T01:30:00+00:00",
        "fired: ['inventory@2026-03-29T01:00:00Z', 'inventory@2026-03-29T01:15:00Z',"
        " 'inventory@2026-03-29T01:30:00Z', 'nightly-report@2026-03-29T01:30:00Z']",
        "again: []",
        "nightly last fired: 2026-03-29T01:30:00+00:00 next: 2026-03-30T00:30:00+00:00",
        "last success: 2026-03-29T01:31:00+00:00",
        "paused fires: 0",
        "resumed, next: 2026-03-29T03:15:00+00:00",
    ],
    "workflows.py": [
        "merge waits for: [['a'], ['bb'], ['ccc']]",
        "merge: 6",
        "total: 100",
        "web completed",
        "ftp discarded",
        "announce cancelled",
        "cleanup completed",
        "depends_on: completed",
        "invalid job: after: the steps form a cycle: a → b → a",
    ],
    "limits.py": [
        "now: ['partner 0', 'partner 99']",
        "a second later: ['partner 1', 'partner 2']",
        "still waiting, none failed: 2",
        "held by: ['task:call_partner'] 4 jobs",
        "most exports at once per customer: [('acme', 1), ('globex', 1)]",
        "autoscaled start: 4",
    ],
}


@pytest.mark.parametrize("example", EXPECTED)
def test_the_example_prints_what_the_readme_says(
    example: str, database_url: str, tmp_path: Path
) -> None:
    assert run_example(example, database_url, tmp_path) == EXPECTED[example]


def run_example(name: str, database_url: str, cwd: Path) -> list[str]:
    """The lines ``docs/examples/<name>`` prints; fails with its stderr if it fails."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKWARD_")}
    env["TASKWARD_DATABASE_URL"] = database_url
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()
