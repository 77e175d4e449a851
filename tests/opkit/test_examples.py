"""The three examples run to completion on SQLite, each with its one command, configured
by its taskward.toml (the database moved to a temporary file through the environment)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.opkit.support import ROOT
from tests.ops.conftest import clean_env

EXAMPLES = ROOT / "examples"


def run_example(name: str, tmp_path: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "run.py", *args],
        cwd=EXAMPLES / name,
        env=clean_env(TASKWARD_DATABASE__URL=f"sqlite:///{tmp_path}/{name}.db"),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert not (EXAMPLES / name / ".taskward").exists()  # the file's URL was overridden
    return result.stdout


def test_order_pipeline_compensates_the_orders_that_did_not_ship(tmp_path: Path) -> None:
    out = run_example("order_pipeline", tmp_path).splitlines()
    assert out[:3] == ["order 1 (book): shipped", "order 2 (piano): failed",
                       "order 3 (lamp): failed"]  # fmt: skip
    assert out[3].split() == ["payment=completed", "stock=completed", "shipping=completed",
                              "email=completed", "settle=completed", "->", "shipped"]  # fmt: skip
    assert out[4].endswith("stock=discarded shipping=cancelled email=cancelled "
                           "settle=completed -> failed: refunded")  # fmt: skip
    assert out[5].startswith("  payment=discarded stock=cancelled")
    assert out[5].endswith("-> failed: nothing to undo")


def test_email_campaign_sends_ten_thousand_under_the_limit_and_digests_the_bounces(
    tmp_path: Path,
) -> None:
    out = run_example("email_campaign", tmp_path).splitlines()
    assert out[0].startswith("10000 sends in ")
    rate = float(out[0].split("(")[1].split("/s")[0])
    assert rate <= 2500 * 1.2  # the limit holds (a burst of 500 comes on top of 2,500/s)
    assert out[1].endswith(": 104 sends failed (104 x campaign.BouncedError)")  # every 97th


def test_nightly_etl_fans_out_and_merges(tmp_path: Path) -> None:
    out = run_example("nightly_etl", tmp_path).splitlines()
    assert out[0] == "scheduled: nightly-etl (0 2 * * *, Europe/Paris)"
    assert out[1:3] == ["extract: completed", "merge: completed"]
    transforms = [line for line in out if line.startswith("etl.transform")]
    assert len(transforms) == 8 and all(t.endswith(": completed") for t in transforms)
    assert out[-1].startswith("merged: {'partitions': 8, 'rows': ")
