"""Config fuzz: whatever is wrong with a file, the answer is the clear multi-error message.

Mutations of the README's example file (wrong types, unknown keys, unset ${VAR}s,
bad durations and cron expressions, broken TOML) must each end in a
``ConfigError`` whose every line names a source and a key, never in another
exception; the same holds through ``taskward config check`` as a subprocess.
"""

from __future__ import annotations

import random
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from taskward.ops.config import ConfigError, load_settings
from tests.ops.conftest import EXAMPLES, run_cli

EXAMPLE = (EXAMPLES / "config" / "taskward.toml").read_text()
ENV = {"DB_PASSWORD": "pw"}
WRONG_VALUES: list[Any] = [
    "ten",
    -1,
    0,
    3.5,
    True,
    [],
    {},
    ["x", 1],
    {"nested": {"deep": 1}},
    "24 hours",
    "1x",
    "",
    "${UNSET_VARIABLE}",
    "* * *",
    "99 99 * * *",
    "Mars/Olympus",
    10**12,
]


def leaves(table: dict[str, Any], path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for key, value in table.items():
        if isinstance(value, dict) and value:
            found += leaves(value, (*path, key))
        else:
            found.append((*path, key))
    return found


def mutate(data: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Up to four mutations: a wrong value, an unknown key, or a deleted required key."""
    for _ in range(rng.randint(1, 4)):
        path = rng.choice(leaves(data))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        roll = rng.random()
        if roll < 0.7:
            parent[path[-1]] = rng.choice(WRONG_VALUES)
        elif roll < 0.9:
            parent[path[-1] + rng.choice(["s", "_x", "e"])] = 1
        else:
            del parent[path[-1]]
    return data


def assert_clear(error: ConfigError, source: str) -> None:
    assert error.lines()
    for line in error.lines():
        assert line.startswith((source, "$TASKWARD_")), line
        assert ": " in line and "\n" not in line
        assert "Traceback" not in line and "pydantic" not in line.lower()


@pytest.mark.parametrize("seed", range(40))
def test_mutated_files_fail_with_clear_lines(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    data = mutate(tomllib.loads(EXAMPLE), rng)
    path = tmp_path / "taskward.toml"
    path.write_text(tomli_w.dumps(data))
    try:
        load_settings(path, environ=ENV)
    except ConfigError as exc:
        assert_clear(exc, str(path))


@pytest.mark.parametrize("seed", range(15))
def test_broken_toml_names_its_line(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    lines = EXAMPLE.splitlines()
    at = rng.randrange(len(lines))
    lines[at] = rng.choice([' = "', " [", " = = 1", "]]", ' "unterminated']) + lines[at]
    path = tmp_path / "taskward.toml"
    path.write_text("\n".join(lines))
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ=ENV)
    (line,) = info.value.lines()
    assert line.startswith(f"{path}: line ") and "invalid TOML" in line


@pytest.mark.parametrize(
    "variable",
    [
        ("TASKWARD_WORKER__CONCURRENCY", "lots"),
        ("TASKWARD_QUEUES__EMAILS__LIMIT", "{not json"),
        ("TASKWARD_WORKER__QUEUES", "[1, 2"),
        ("TASKWARD_RETENTION__COMPLETED", "forever"),
    ],
)
def test_bad_environment_values_are_clear_too(tmp_path: Path, variable: tuple[str, str]) -> None:
    path = tmp_path / "taskward.toml"
    path.write_text(EXAMPLE)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={**ENV, variable[0]: variable[1]})
    assert_clear(info.value, f"${variable[0]}: ")
    assert any(variable[0] in line for line in info.value.lines())


@pytest.mark.parametrize("seed", [3, 11])
def test_config_check_subprocess_never_shows_a_traceback(tmp_path: Path, seed: int) -> None:
    data = mutate(tomllib.loads(EXAMPLE), random.Random(seed))
    data.setdefault("worker", {})["concurrency"] = "ten"  # at least one error, always
    data.pop("app", None)
    (tmp_path / "taskward.toml").write_text(tomli_w.dumps(data))
    result = run_cli("config", "check", cwd=tmp_path, DB_PASSWORD="pw")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert 'taskward.toml: worker.concurrency: expected an integer ≥ 1, got "ten"' in lines
    assert all(line.startswith("taskward.toml: ") for line in lines), lines
