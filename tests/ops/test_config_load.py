"""Loading taskward.toml: discovery, ${ENV}, precedence, and every error at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from taskward.ops.config import ConfigError, TaskwardConfig, load_settings


def write(tmp_path: Path, text: str, name: str = "taskward.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def errors(path: Path | None, env: dict[str, str] | None = None, **kw: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ=env or {}, **kw)  # type: ignore[arg-type]
    return info.value.lines()


def test_no_file_means_the_embedded_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_settings(environ={})
    assert config.file is None
    assert config == TaskwardConfig()
    assert config.database.url.get_secret_value() == "sqlite:///.taskward/taskward.db"
    assert config.retention.completed == 86400 and config.retention.discarded == 7 * 86400


def test_discovery_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "[worker]\nconcurrency = 1\n")
    env_file = write(tmp_path, "[worker]\nconcurrency = 2\n", "env.toml")
    flag_file = write(tmp_path, "[worker]\nconcurrency = 3\n", "flag.toml")
    assert load_settings(environ={}).worker.concurrency == 1
    env = {"TASKWARD_CONFIG": str(env_file)}
    assert load_settings(environ=env).worker.concurrency == 2
    assert load_settings(flag_file, environ=env).worker.concurrency == 3
    assert load_settings(flag_file, environ=env).file == flag_file


def test_precedence_file_then_environment_then_command_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[database]\nurl = "sqlite:///file.db"\npool_size = 3\n'
        "[queues.emails]\nconcurrency = 4\npaused = false\n",
    )
    env = {
        "TASKWARD_QUEUES__EMAILS__CONCURRENCY": "7",
        "TASKWARD_DATABASE__URL": "sqlite:///env.db",
        "TASKWARD_DATABASE_URL": "sqlite:///legacy.db",
    }
    config = load_settings(path, environ=env)
    assert config.queues["emails"].concurrency == 7  # environment over file
    assert config.queues["emails"].paused is False  # untouched keys of the table stay
    assert config.database.pool_size == 3
    assert config.database.url.get_secret_value() == "sqlite:///env.db"  # __ over legacy
    flags = {"database": {"url": "sqlite:///flag.db", "pool_size": None}}
    config = load_settings(path, flags, environ=env)
    assert config.database.url.get_secret_value() == "sqlite:///flag.db"
    assert config.database.pool_size == 3  # a flag given as None was not given
    legacy = load_settings(path, environ={"TASKWARD_DATABASE_URL": "sqlite:///legacy.db"})
    assert legacy.database.url.get_secret_value() == "sqlite:///legacy.db"


def test_env_interpolation_with_defaults_and_escapes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[database]\nurl = "postgresql://app:${DB_PASSWORD}@db/${DB_NAME:-jobs}"\n'
        '[schedules.report]\ntask = "r.run"\ncron = "0 3 * * *"\nargs = ["$${literal}"]\n',
    )
    config = load_settings(path, environ={"DB_PASSWORD": "pa$$word"})
    assert config.database.url.get_secret_value() == "postgresql://app:pa$$word@db/jobs"
    assert "pa$$word" not in str(config.database.url)
    assert config.schedules["report"].args == ["${literal}"]


def test_every_error_at_once_naming_source_key_value_and_expectation(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[database]\nurl = "postgresql://u:${MISSING}@h/db"\npoolsize = 3\n'
        '[queues.email]\nconcurrency = "ten"\n'
        '[tasks."billing.charge"]\nbackoff = { kind = "exponential", cap = "forever" }\n'
        '[tasks.other]\nbackoff = { kind = "quadratic" }\nunique = "sometimes"\n'
        '[schedules.nightly]\ntask = "x"\ncron = "0 25 * * *"\ntimezone = "Mars/Olympus"\n'
        '[retention.queues.billing]\ndiscarded = "30 days"\n'
        "[api]\nport = 1\n",
    )
    env = {"TASKWARD_WORKER__HEARTBEAT": "soon"}
    lines = errors(path, env)
    f = str(path)
    assert lines == [
        f"{f}: database.url: environment variable MISSING is not set"
        " (write ${MISSING:-default} for a fallback)",
        f'{f}: database.poolsize: unknown key; did you mean "pool_size"?',
        '$TASKWARD_WORKER__HEARTBEAT: worker.heartbeat: expected a duration like "500ms",'
        ' "30s", "24h" or "30d", got "soon"',
        f'{f}: queues.email.concurrency: expected an integer ≥ 1, got "ten"',
        f'{f}: tasks."billing.charge".backoff.cap: expected a duration like "500ms", "30s",'
        ' "24h" or "30d", got "forever"',
        f'{f}: tasks.other.backoff: expected one of "exponential", "linear", "fibonacci",'
        ' "constant", got "quadratic"',
        f'{f}: tasks.other.unique: expected true or false, or a table, got "sometimes"',
        f'{f}: schedules.nightly.cron: expected a cron expression "minute hour day month'
        ' weekday" (the last value (25) is higher than the maximum value (23)),'
        ' got "0 25 * * *"',
        f'{f}: schedules.nightly.timezone: expected an IANA time zone such as "UTC" or'
        ' "Europe/Paris", got "Mars/Olympus"',
        f'{f}: retention.queues.billing.discarded: expected a duration like "500ms", "30s",'
        ' "24h" or "30d", got "30 days"',
        f"{f}: api: this section is not supported by this version of Taskward yet",
    ]


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[worker]\nconcurrency = 1\nqueues = [\n[oops\n")
    (line,) = errors(path)
    assert line.startswith(f"{path}: line 4, column 2: invalid TOML: ")


def test_a_named_file_must_exist(tmp_path: Path) -> None:
    assert errors(tmp_path / "nope.toml") == [f"{tmp_path / 'nope.toml'}: no such file"]
    env = {"TASKWARD_CONFIG": str(tmp_path / "gone.toml")}
    assert errors(None, env) == [f"{tmp_path / 'gone.toml'}: no such file"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[retention]\ncompleted = "24h"', 86400.0),
        ('[retention]\ncompleted = "500ms"', 0.5),
        ('[retention]\ncompleted = "1h30m"', 5400.0),
        ("[retention]\ncompleted = 90", 90.0),
        ('[retention]\ncompleted = "2w"', 14 * 86400.0),
    ],
)
def test_durations(tmp_path: Path, text: str, expected: float) -> None:
    assert load_settings(write(tmp_path, text), environ={}).retention.completed == expected


def test_per_queue_retention_falls_back_to_the_default(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[retention]\ncompleted = "1h"\n[retention.queues.billing]\ndiscarded = "30d"\n',
    )
    retention = load_settings(path, environ={}).retention
    assert retention.age("billing", "discarded") == 30 * 86400
    assert retention.age("billing", "completed") == 3600
    assert retention.age("emails", "discarded") == 7 * 86400


def test_the_environment_is_read_once_from_where_it_is_given(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TASKWARD_WORKER__CONCURRENCY", "5")
    assert load_settings().worker.concurrency == 5
    assert load_settings(environ={}).worker.concurrency == 10  # not os.environ behind our back
