"""``taskward db``, the default database, and database faults: one line, exit 1."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.ops.conftest import one_line_error, run_cli
from tests.services import free_port


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_db_upgrade_creates_the_schema_on_an_empty_database(
    dialect: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # SQLite: no flag and no $TASKWARD_DATABASE_URL means ./.taskward/taskward.db.
    args = (
        [] if dialect == "sqlite" else ["--database", request.getfixturevalue("empty_postgresql")]
    )

    before = run_cli("db", "check", *args, cwd=tmp_path)
    assert before.returncode == 1
    assert "taskward db upgrade" in one_line_error(before)

    first = run_cli("db", "upgrade", *args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "upgraded from empty to schema revision" in first.stdout
    again = run_cli("db", "upgrade", *args, cwd=tmp_path)
    assert "already at schema revision" in again.stdout
    check = run_cli("db", "check", *args, cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert "(current)" in check.stdout
    if dialect == "sqlite":
        assert (tmp_path / ".taskward" / "taskward.db").is_file()


def test_the_env_var_names_the_default_database(sqlite_database: str, tmp_path: Path) -> None:
    result = run_cli("db", "check", cwd=tmp_path, TASKWARD_DATABASE_URL=sqlite_database)
    assert result.returncode == 0, result.stderr
    assert f"database {sqlite_database}: schema revision" in result.stdout
    assert not (tmp_path / ".taskward").exists()


UNREACHABLE = "postgresql://taskward:s3cret-pw@127.0.0.1:{port}/nowhere"
COMMANDS = {
    "db upgrade": ["db", "upgrade", "--database", "{url}"],
    "jobs list": ["jobs", "list", "--database", "{url}"],
    "enqueue": ["enqueue", "shop.add", "--args", "[1, 2]", "--app", "shop:app", "-d", "{url}"],
    "worker": ["worker", "--app", "shop:app", "--database", "{url}"],
    "demo": ["demo", "--once", "--database", "{url}"],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unreachable_database_is_one_line_with_the_password_masked(
    command: str, shop_dir: Path
) -> None:
    url = UNREACHABLE.format(port=free_port())
    result = run_cli(*(a.format(url=url) for a in COMMANDS[command]), cwd=shop_dir)
    assert result.returncode == 1
    line = one_line_error(result)
    assert "taskward:***@127.0.0.1" in line
    assert "s3cret-pw" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@127.0.0.1/x", "only sqlite:/// and postgresql:// URLs are supported"),
        ("sqlite:///{tmp}/missing/taskward.db", "no database file at"),
    ],
)
def test_a_wrong_url_is_one_line(url: str, message: str, tmp_path: Path) -> None:
    result = run_cli("jobs", "list", "--database", url.format(tmp=tmp_path))
    assert result.returncode == 1
    assert message in one_line_error(result)
    assert not (tmp_path / "missing").exists()  # nothing was created


@pytest.mark.parametrize("command", ["jobs list", "worker"])
def test_an_old_schema_says_which_command_fixes_it(command: str, shop_dir: Path) -> None:
    path = shop_dir / "old.db"
    sqlite3.connect(path).close()  # a database file without the schema
    url = f"sqlite:///{path}"
    result = run_cli(*(a.format(url=url) for a in COMMANDS[command]), cwd=shop_dir)
    assert result.returncode == 1
    line = one_line_error(result)
    assert "schema revision none" in line
    assert f"run `taskward db upgrade --database {url}`" in line


def test_a_refused_migration_is_one_line(empty_postgresql: str, pg_admin: sa.Engine) -> None:
    role = f"taskward_nobody_{uuid.uuid4().hex[:8]}"
    with pg_admin.connect() as conn:
        conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN'))  # PostgreSQL 15: no CREATE on public
    try:
        url = sa.make_url(empty_postgresql).set(username=role).render_as_string(False)
        result = run_cli("db", "upgrade", "--database", url)
        assert result.returncode == 1
        assert "database error: permission denied for schema public" in one_line_error(result)
    finally:
        with pg_admin.connect() as conn:
            conn.execute(sa.text(f'DROP ROLE IF EXISTS "{role}"'))
