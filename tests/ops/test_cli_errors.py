"""Every CLI error is one line (``--traceback`` adds the trace), hints paste as they are,
and the exit status says what kind of failure it was: 1 failed, 2 bad usage."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.ops.conftest import clean_env, count_rows, one_line_error, run_cli

BROKEN_APP = "import os\nraise RuntimeError('no SHOP_SECRET in the environment')\n"


def test_an_app_whose_import_raises_is_one_line_naming_module_and_exception(
    shop_dir: Path, sqlite_database: str
) -> None:
    (shop_dir / "broken.py").write_text(BROKEN_APP)
    args = ["enqueue", "shop.add", "--args", "[1, 2]", "--app", "broken:app"]
    result = run_cli(*args, "--database", sqlite_database, cwd=shop_dir)
    assert result.returncode == 1
    assert one_line_error(result) == (
        "taskward: error: --app 'broken:app': importing broken raised RuntimeError:"
        " no SHOP_SECRET in the environment"
    )
    assert count_rows(sqlite_database) == 0

    traced = run_cli(*args, "--database", sqlite_database, "--traceback", cwd=shop_dir)
    assert traced.returncode == 1
    assert "Traceback (most recent call last)" in traced.stderr
    assert 'broken.py", line 2' in traced.stderr  # the user's own frame
    assert traced.stderr.strip().splitlines()[-1].startswith("taskward: error: --app")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["jobs", "list", "--limit", "many"], "Invalid value for '--limit'"),
        (["jobs", "list", "--no-such-flag"], "No such option: --no-such-flag"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_bad_usage_is_one_line_with_the_help_to_read_and_exit_2(
    args: list[str], message: str, sqlite_database: str
) -> None:
    result = run_cli(*args, TASKWARD_DATABASE_URL=sqlite_database)
    assert result.returncode == 2
    line = one_line_error(result)
    assert message in line and "--help`)" in line
    assert count_rows(sqlite_database) == 0


def test_a_schema_hint_pastes_as_it_is_and_never_shows_a_masked_password(
    empty_postgresql: str, tmp_path: Path
) -> None:
    with_password = sa.make_url(empty_postgresql).set(password="pw-123")  # trust auth: ignored
    url = with_password.render_as_string(hide_password=False)

    given = run_cli("jobs", "list", "--database", url, cwd=tmp_path)
    assert given.returncode == 1
    line = one_line_error(given)
    assert "***@" in line.split(": run ")[0]  # the URL it names is masked
    hint = line.split("run `", 1)[1].rstrip("`")
    assert "***" not in hint and "pw-123" not in hint
    assert ":<password>@" in hint  # a placeholder to fill in, not a masked copy

    from_env = run_cli("jobs", "list", cwd=tmp_path, TASKWARD_DATABASE_URL=url)
    hint = one_line_error(from_env).split("run `", 1)[1].rstrip("`")
    assert hint == 'taskward db upgrade --database "$TASKWARD_DATABASE_URL"'
    pasted = subprocess.run(
        ["bash", "-c", hint],
        cwd=tmp_path,
        env=clean_env(TASKWARD_DATABASE_URL=url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert pasted.returncode == 0, pasted.stderr
    assert run_cli("db", "check", cwd=tmp_path, TASKWARD_DATABASE_URL=url).returncode == 0
