"""A server that accepts the TCP connection and never answers (a hung proxy): every
caller fails within the connect timeout with one line naming the host, never hangs."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from taskward.core import DatabaseUnavailableError, Taskward
from tests.ops.conftest import CLI, clean_env, one_line_error

#: The CLI's promise: an unresponsive server is reported within this many seconds.
CLI_BOUND = 10.0


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A PostgreSQL URL (with a password) whose server completes the TCP handshake
    (the kernel does, from the backlog) and then says nothing at all."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"postgresql://ada:s3cret-pw@127.0.0.1:{sock.getsockname()[1]}/shop"


COMMANDS = {
    "jobs list": ["jobs", "list", "--database", "{url}"],
    "worker": ["worker", "--app", "shop:app", "--database", "{url}"],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_cli_commands_fail_within_the_bound_with_one_line(
    command: str, silent_url: str, shop_dir: Path
) -> None:
    began = time.monotonic()  # the default connect timeout, in real time, start-up included
    result = subprocess.run(
        [*CLI, *(a.format(url=silent_url) for a in COMMANDS[command])],
        cwd=shop_dir,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    took = time.monotonic() - began
    # What the machine adds (start-up and imports, slow on a loaded CI host) is not the
    # timeout's: subtract the time the same command takes to print its help.
    began = time.monotonic()
    subprocess.run([*CLI, *COMMANDS[command][:1], "--help"], env=clean_env(), check=True,
                   capture_output=True, cwd=shop_dir, timeout=60)  # fmt: skip
    assert took - (time.monotonic() - began) < CLI_BOUND, f"{command} took {took:.1f}s"
    assert result.returncode == 1, result.stderr
    line = one_line_error(result)
    assert "ada:***@127.0.0.1" in line and "timeout" in line, line
    assert "s3cret-pw" not in result.stdout + result.stderr


def test_enqueue_and_a_worker_fail_fast_in_process(silent_url: str) -> None:
    app = Taskward(silent_url + "?connect_timeout=2")

    @app.task
    def add(a: int, b: int) -> int:
        return a + b

    try:
        began = time.monotonic()
        with pytest.raises(DatabaseUnavailableError, match=r"ada:\*\*\*@127\.0\.0\.1"):
            add.enqueue(1, 2)
        with pytest.raises(DatabaseUnavailableError, match="timeout"):
            asyncio.run(app.worker().start())
        assert time.monotonic() - began < 2 * 2 + 3
    finally:
        app.close()


def test_statement_timeout_defaults_and_url_override(postgresql_database: str) -> None:
    default = Taskward(postgresql_database)
    short = Taskward(postgresql_database + "?statement_timeout=150ms")
    try:
        with default.connect() as conn:
            assert conn.scalar(sa.text("SHOW statement_timeout")) == "30s"
        with (
            pytest.raises(sa.exc.OperationalError, match="statement timeout"),
            short.engine.connect() as conn,
        ):
            conn.execute(sa.text("SELECT pg_sleep(2)"))
    finally:
        default.close()
        short.close()


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("statement_timeout=soon", "statement_timeout='soon': expected milliseconds"),
        ("connect_timeout=2.5", "connect_timeout='2.5': expected whole seconds"),
    ],
)
def test_a_bad_timeout_parameter_is_one_line(query: str, problem: str) -> None:
    url = f"postgresql://ada:s3cret-pw@127.0.0.1:5432/shop?{query}"
    result = subprocess.run(
        [*CLI, "jobs", "list", "--database", url],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert problem in one_line_error(result)
    assert "s3cret-pw" not in result.stderr
