"""Applying taskward.toml to an app: the database, limits and schedules, all or nothing."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from taskward.core import Constant
from taskward.core.limits import Limit, Rate
from taskward.ops.config import ConfigError, load_settings
from taskward.ops.config.apply import open_app
from tests.ops.conftest import SHOP


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The ``shop`` app module importable from the working directory, forgotten afterwards."""
    (tmp_path / "shop.py").write_text(SHOP)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("shop", None)


def config_file(directory: Path, url: str, body: str) -> Path:
    path = directory / "taskward.toml"
    path.write_text(f'[database]\nurl = "{url}"\n[app]\nmodule = "shop:app"\n{body}')
    return path


def test_open_app_loads_the_module_on_the_configured_database(
    shop: Path, database_url: str
) -> None:
    path = config_file(
        shop,
        database_url,
        '[queues.default.limit]\nrate = 5\nper = "1m"\n'
        '[tasks."shop.add"]\nmax_attempts = 3\ntimeout = "30s"\npriority = 2\n'
        'backoff = { kind = "constant", delay = "5s" }\n'
        '[tasks."shop.add".limit]\nconcurrency = 2\n'
        '[schedules.sums]\ntask = "shop.add"\ncron = "*/5 * * * *"\nargs = [1, 2]\n'
        'timezone = "Europe/Paris"\nmissed = "catch_up"\ncatch_up_limit = 3\n',
    )
    with contextlib.closing(open_app(load_settings(path, environ={}))) as app:
        assert "shop.add" in app.tasks
        policy = app.tasks["shop.add"].policy
        assert (policy.max_attempts, policy.timeout, policy.priority) == (3, 30.0, 2)
        assert policy.retry.backoff == Constant(delay=5.0)
        assert app.tasks["shop.fail"].policy.max_attempts == 1  # untouched tasks keep theirs
        assert app.engine.url.render_as_string(hide_password=False).endswith(
            database_url.split("://", 1)[1]
        )
        assert set(app.limits) == {
            Limit(queue="default", rate=Rate(5, per=60.0)),
            Limit(task="shop.add", concurrency=2),
        }
        schedule = app.schedules.defined["sums"]
        assert (schedule.cron, schedule.timezone, schedule.catch_up) == (
            "*/5 * * * *",
            "Europe/Paris",
            3,
        )
        assert (schedule.spec.task, schedule.spec.args) == ("shop.add", (1, 2))


def test_a_config_naming_unknown_tasks_applies_nothing(shop: Path, sqlite_database: str) -> None:
    path = config_file(
        shop,
        sqlite_database,
        "[queues.default.limit]\nconcurrency = 1\n"
        '[schedules.sums]\ntask = "shop.sum"\ncron = "* * * * *"\n',
    )
    with pytest.raises(ConfigError) as info:
        open_app(load_settings(path, environ={}))
    assert info.value.lines() == [
        f"{path}: schedules.sums.task: the app has no task named 'shop.sum';"
        ' did you mean "shop.add"?'
    ]


def test_without_an_app_module_ops_commands_get_a_bare_app(
    tmp_path: Path, sqlite_database: str
) -> None:
    path = tmp_path / "taskward.toml"
    path.write_text(
        f'[database]\nurl = "{sqlite_database}"\n'
        '[schedules.sums]\ntask = "shop.add"\ncron = "* * * * *"\n'
    )
    with contextlib.closing(open_app(load_settings(path, environ={}))) as app:
        assert app.tasks == {}
        assert app.schedules.defined == {}
