"""Finding the app (``--app module:attr``) and moving it onto ``--database``; in process."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from taskward.core import Taskward
from taskward.ops.cli._run import parse_queues
from taskward.ops.errors import AppImportError, AppLoadError, BadInputError
from taskward.ops.loader import load_app
from taskward.ops.urls import ENV_VAR


@pytest.fixture
def module_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The working directory, with sys.path, the environment and sys.modules restored after."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delenv(ENV_VAR, raising=False)
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def _module(directory: Path, body: str) -> str:
    name = f"app_{uuid.uuid4().hex[:8]}"
    (directory / f"{name}.py").write_text(body)
    return name


def test_database_is_exported_before_the_import(module_dir: Path, sqlite_database: str) -> None:
    name = _module(module_dir, "import os\nfrom taskward.core import Taskward\n"
                   f"app = Taskward(os.environ['{ENV_VAR}'])\n")  # fmt: skip
    app = load_app(f"{name}:app", sqlite_database)
    try:
        assert app.url == sqlite_database
    finally:
        app.close()


def test_an_app_with_its_own_url_is_moved_onto_database(
    module_dir: Path, sqlite_database: str
) -> None:
    elsewhere = module_dir / "hard-coded.db"
    name = _module(
        module_dir,
        "from taskward.core import Taskward\n"
        f"app = Taskward('sqlite:///{elsewhere}')\n"
        "@app.task(name='ping')\n"
        "def ping() -> str:\n"
        "    return 'pong'\n",
    )
    app = load_app(f"{name}:app", sqlite_database)
    try:
        assert app.url == sqlite_database
        job = sys.modules[name].ping.enqueue()  # the module's own task object follows
        assert app.get_job(job.id).task == "ping"
    finally:
        app.close()
    check = Taskward(sqlite_database)
    try:
        assert [j.id for j in check.list_jobs()] == [job.id]
    finally:
        check.close()
    assert not elsewhere.exists()


def test_a_moved_app_keeps_its_workflows_and_limits(module_dir: Path, database_url: str) -> None:
    """The store on the new database runs the same plugins: dependents are released and
    limits enforced there, not only on the database the module named."""
    elsewhere = module_dir / "hard-coded.db"
    name = _module(
        module_dir,
        "from taskward.core import Taskward\n"
        "from taskward.core.limits import Limit\n"
        f"app = Taskward('sqlite:///{elsewhere}')\n"
        "@app.task(name='first')\n"
        "def first() -> str:\n"
        "    return 'one'\n"
        "@app.task(name='second')\n"
        "def second() -> str:\n"
        "    return 'two'\n"
        "@app.task(name='capped', queue='capped', limit=Limit(concurrency=1))\n"
        "def capped() -> None: ...\n",
    )
    app = load_app(f"{name}:app", database_url)
    module = sys.modules[name]
    try:
        app.migrate()
        a = module.first.enqueue()
        b = module.second.options(depends_on=[a]).enqueue()
        asyncio.run(app.worker(["default"], listen=False).drain())
        assert app.get_job(b.id).state.value == "completed"  # released on the new database

        module.capped.enqueue_many([() for _ in range(3)])
        with app.connect() as conn:
            claimed = app.store.claim(conn, "capped", "w", 10, app.clock.now())
        assert len(claimed) == 1  # the concurrency cap holds on the new database
    finally:
        app.close()
    assert not elsewhere.exists()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_colon", "expected module:attribute"),
        ("surely_not_a_module_xyz:app", "no module named 'surely_not_a_module_xyz'"),
        ("{module}:missing", "is not a Taskward application"),
    ],
)
def test_bad_app_specs_name_the_flag(module_dir: Path, spec: str, message: str) -> None:
    name = _module(module_dir, "x = 1\n")
    with pytest.raises(AppLoadError, match=message) as info:
        load_app(spec.format(module=name))
    assert info.value.field == "--app"


def test_a_missing_dependency_of_the_app_is_not_hidden(module_dir: Path) -> None:
    name = _module(module_dir, "import surely_not_installed_xyz\n")
    with pytest.raises(AppImportError, match=r"ModuleNotFoundError.*surely_not_installed_xyz"):
        load_app(f"{name}:app")


def test_an_app_whose_import_raises_names_the_module_and_keeps_the_cause(
    module_dir: Path,
) -> None:
    name = _module(module_dir, "raise RuntimeError('settings.py: no SECRET_KEY')\n")
    with pytest.raises(AppImportError) as info:
        load_app(f"{name}:app")
    assert str(info.value) == (
        f"--app '{name}:app': importing {name} raised RuntimeError: settings.py: no SECRET_KEY"
    )
    assert isinstance(info.value.__cause__, RuntimeError)  # what --traceback prints


def test_parse_queues(sqlite_database: str) -> None:
    app = Taskward(sqlite_database)

    @app.task(queue="mail")
    def send() -> None: ...

    try:
        assert parse_queues([], 3, app) == {"mail": 3}
        assert parse_queues(["default", "mail=2"], 5, app) == {"default": 5, "mail": 2}
        for bad in ("mail=0", "mail=x", "=3"):
            with pytest.raises(BadInputError, match="--queue"):
                parse_queues([bad], 5, app)
    finally:
        app.close()
