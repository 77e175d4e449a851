"""Reloading a running worker: a bad file keeps the old config, a good one applies live."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from taskward.core import Taskward
from taskward.ops.config import load_settings
from taskward.ops.config.apply import open_app
from taskward.ops.config.reload import Reloader
from taskward.ops.config.runtime import build_worker

TASKS = """
from taskward.core import Taskward

app = Taskward("sqlite://")


@app.task(name="mail.send", queue="emails")
def send(to: str) -> None:
    pass


@app.task(name="mail.digest", queue="emails")
def digest() -> None:
    pass
"""

BASE = """
[database]
url = "{url}"
[app]
module = "mailer:app"
[queues.emails]
concurrency = {concurrency}
{extra}
"""


@pytest.fixture
def mailer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "mailer.py").write_text(TASKS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path / "taskward.toml"
    sys.modules.pop("mailer", None)


def write(path: Path, url: str, concurrency: object, extra: str = "") -> None:
    path.write_text(BASE.format(url=url, concurrency=concurrency, extra=extra))


async def reload_in_worker(
    app: Taskward, path: Path, edits: list[str]
) -> list[tuple[bool, dict[str, int]]]:
    """Start a worker, rewrite the file with each edit, reload; (accepted, concurrency) each."""
    config = load_settings(path, environ={})
    worker = build_worker(app, config, listen=False)
    reloader = Reloader(app, worker, config, config_path=path, environ={})
    await worker.start()
    results = []
    try:
        for text in edits:
            await asyncio.to_thread(path.write_text, text)
            accepted = await reloader.reload()
            results.append((accepted, {q: r.limit for q, r in worker.runners.items()}))
    finally:
        await worker.shutdown()
    return results


def test_a_bad_file_keeps_the_running_config_and_a_good_one_applies_live(
    mailer: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    write(mailer, database_url, 2)
    good = BASE.format(
        url=database_url,
        concurrency=7,
        extra='paused = true\nlimit = { rate = 5, per = "1m" }\n'
        '[schedules.digest]\ntask = "mail.digest"\ncron = "0 8 * * *"\n'
        '[retention]\ncompleted = "1h"\n',
    )
    bad = BASE.format(url=database_url, concurrency='"ten"', extra="")
    caplog.set_level(logging.INFO, logger="taskward.ops.config")
    with contextlib.closing(open_app(load_settings(mailer, environ={}))) as app:
        results = asyncio.run(reload_in_worker(app, mailer, [bad, good, bad]))
        assert results == [(False, {"emails": 2}), (True, {"emails": 7}), (False, {"emails": 7})]
        assert app.schedules.defined["digest"].cron == "0 8 * * *"
        assert [lim.name for lim in app.limits] == ["queue:emails"]
        assert {info.name for info in app.schedules.list()} == {"digest"}
    failures = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert (
        failures
        == [
            "config reload failed, keeping the running config: "
            f'{mailer}: queues.emails.concurrency: expected an integer ≥ 1, got "ten"'
        ]
        * 2
    )
    (applied,) = [r.getMessage() for r in caplog.records if "config reloaded" in r.getMessage()]
    assert "queues.emails.concurrency 2 -> 7" in applied
    assert "queues.emails paused" in applied
    assert "limit queue:emails added" in applied
    assert "schedules.digest added" in applied
