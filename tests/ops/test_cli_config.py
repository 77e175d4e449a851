"""``taskward config check|show|schema`` as a user runs them: subprocesses, real files."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.ops.conftest import run_cli

SECRET = "hunter2-Sup3rSecret"


def test_check_lists_every_error_one_per_line_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "taskward.toml").write_text(
        '[queues.email]\nconcurrency = "ten"\n[worker]\nheartbeat = "soon"\nqueue = []\n'
    )
    result = run_cli("config", "check", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        'taskward.toml: worker.heartbeat: expected a duration like "500ms", "30s", "24h"'
        ' or "30d", got "soon"',
        'taskward.toml: worker.queue: unknown key; did you mean "queues"?',
        'taskward.toml: queues.email.concurrency: expected an integer ≥ 1, got "ten"',
    ]


def test_check_reports_a_toml_syntax_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[worker]\nconcurrency = 3\nheartbeat = "5s\n')
    result = run_cli("config", "check", "--config", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"{path}: line 3, column ")
    assert "invalid TOML" in line


def test_check_names_tasks_the_app_does_not_have(shop_dir: Path) -> None:
    (shop_dir / "taskward.toml").write_text(
        '[app]\nmodule = "shop:app"\n[tasks."shop.ad"]\nmax_attempts = 2\n'
        '[schedules.nightly]\ntask = "reports.weekly"\ncron = "0 3 * * *"\n'
    )
    result = run_cli("config", "check", cwd=shop_dir)
    assert result.returncode == 2, result.stdout
    assert result.stderr.splitlines() == [
        """taskward.toml: tasks."shop.ad": the app has no task named 'shop.ad';"""
        ' did you mean "shop.add"?',
        "taskward.toml: schedules.nightly.task: the app has no task named 'reports.weekly'",
    ]
    assert not (shop_dir / ".taskward").exists()  # nothing started, nothing created


def test_check_passes_on_defaults(tmp_path: Path) -> None:
    result = run_cli("config", "check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "embedded defaults" in result.stdout


@pytest.mark.parametrize("fmt", ["toml", "json", "yaml"])
def test_show_never_prints_a_secret(tmp_path: Path, fmt: str) -> None:
    (tmp_path / "taskward.toml").write_text(
        '[database]\nurl = "postgresql://app:${DB_PASSWORD}@db.internal/jobs"\n'
        "[instrumentation.tracing]\n"
        'exporter = "otlp"\nendpoint = "https://u:${DB_PASSWORD}@otel.example/v1/traces"\n'
        'headers = { authorization = "Bearer ${DB_PASSWORD}" }\n'
    )
    result = run_cli("config", "show", "--output", fmt, cwd=tmp_path, DB_PASSWORD=SECRET)
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr
    data = {"toml": tomllib.loads, "json": json.loads, "yaml": yaml.safe_load}[fmt](result.stdout)
    assert data["database"]["url"] == "postgresql://app:***@db.internal/jobs"
    assert data["instrumentation"]["tracing"]["headers"]["authorization"] == "**********"


def test_show_prints_the_effective_config_with_the_environment_applied(tmp_path: Path) -> None:
    (tmp_path / "taskward.toml").write_text('[retention]\ncompleted = "24h"\n')
    result = run_cli(
        "config", "show", "-o", "json", cwd=tmp_path, TASKWARD_RETENTION__DISCARDED="30d"
    )
    data = json.loads(result.stdout)
    assert data["retention"]["completed"] == "1d"
    assert data["retention"]["discarded"] == "30d"


def test_schema_is_json_schema_for_every_section(tmp_path: Path) -> None:
    result = run_cli("config", "schema", cwd=tmp_path)
    schema = json.loads(result.stdout)
    assert schema["title"] == "taskward.toml"
    assert set(schema["properties"]) >= {
        "database",
        "app",
        "worker",
        "queues",
        "tasks",
        "schedules",
        "instrumentation",
        "retention",
    }
    assert schema["additionalProperties"] is False
