"""The README's config file example: it validates, and config.sh runs as written."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.ops.conftest import EXAMPLES, clean_env, run_cli

CONFIG = EXAMPLES / "config"


def test_the_example_taskward_toml_passes_config_check(tmp_path: Path) -> None:
    result = run_cli("config", "check", cwd=CONFIG, DB_PASSWORD="example")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "taskward.toml: OK (2 queue tables, 1 task override, 1 schedule)"
    )


def test_config_sh_runs_and_masks_the_password(tmp_path: Path) -> None:
    for name in ("config.sh", "taskward.toml", "tasks.py"):
        (tmp_path / name).write_text((CONFIG / name).read_text())
    result = subprocess.run(
        ["bash", "config.sh"],
        cwd=tmp_path,
        env=clean_env(DB_PASSWORD="pw-Never-Printed"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "pw-Never-Printed" not in result.stdout + result.stderr
    assert '"url": "postgresql://taskward:***@127.0.0.1/jobs"' in result.stdout
    assert "concurrency = 50" in result.stdout
    assert (tmp_path / "taskward.schema.json").stat().st_size > 1000
