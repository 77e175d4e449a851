"""Where configuration comes from: the file (with ``${ENV}``), the environment, the CLI.

Each source yields a nested dict plus the problems it found on its own (a TOML
syntax error with its line, an unset ``${VAR}``); :mod:`load` merges them in
precedence order and validates the result once.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource
from pydantic_settings.exceptions import SettingsError

from taskward.ops.config.problems import Path as KeyPath
from taskward.ops.config.problems import Problem

CONFIG_ENV = "TASKWARD_CONFIG"
DEFAULT_FILE = "taskward.toml"
ENV_PREFIX = "TASKWARD_"
NESTED = "__"
#: Older single-underscore variables still honoured (below their ``__`` spellings).
LEGACY_ENV = {"TASKWARD_DATABASE_URL": ("database", "url"), "TASKWARD_APP": ("app", "module")}
_REFERENCE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


@dataclass(slots=True)
class Layer:
    """One source's values, a label for each key's origin, and its own problems."""

    data: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    label: str = ""
    #: Names an exact key path's origin (the env var that set it); else ``label``.
    labels: dict[KeyPath, str] = field(default_factory=dict)

    def match(self, path: KeyPath) -> tuple[int, str]:
        """How many leading parts of ``path`` this layer set, and its name for that key."""
        node: Any = self.data
        depth, label = 0, self.label
        for part in path:
            if not isinstance(node, Mapping) or part not in node:
                break
            node, depth = node[part], depth + 1
            label = self.labels.get(path[:depth], label)
        return depth, label


def find_config_file(
    explicit: str | os.PathLike[str] | None, environ: Mapping[str, str]
) -> Path | None:
    """``--config PATH``, else ``$TASKWARD_CONFIG``, else ``./taskward.toml`` if it exists."""
    if explicit:
        return Path(explicit)
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV])
    local = Path(DEFAULT_FILE)
    return local if local.is_file() else None


def read_file(path: Path, environ: Mapping[str, str]) -> Layer:
    """The file's tables with ``${VAR}`` (and ``${VAR:-default}``) filled in from ``environ``."""
    layer = Layer(label=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        layer.problems.append(Problem(str(path), (), "no such file"))
        return layer
    except (OSError, UnicodeDecodeError) as exc:
        layer.problems.append(Problem(str(path), (), f"cannot read it ({exc})"))
        return layer
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = _TOML_POSITION.search(message)
        if position:
            where = f"line {position[1]}, column {position[2]}"
            message = f"{where}: invalid TOML: {message[: position.start()]}"
        layer.problems.append(Problem(str(path), (), message))
        return layer
    layer.data = _interpolate(raw, (), environ, layer)
    return layer


def _interpolate(value: Any, path: KeyPath, environ: Mapping[str, str], layer: Layer) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, (*path, k), environ, layer) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, (*path, i), environ, layer) for i, v in enumerate(value)]
    if not isinstance(value, str) or "$" not in value:
        return value

    def fill(match: re.Match[str]) -> str:
        if match[0] == "$$":
            return "$"
        name, default = match[1], match[2]
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        layer.problems.append(
            Problem(
                layer.label,
                path,
                f"environment variable {name} is not set (write ${{{name}:-default}} "
                "for a fallback)",
            )
        )
        return ""

    return _REFERENCE.sub(fill, value)


def read_env(settings: type[BaseSettings], environ: Mapping[str, str]) -> Layer:
    """``TASKWARD_SECTION__KEY`` variables (pydantic-settings reads them against the model),
    the legacy ``TASKWARD_DATABASE_URL`` / ``TASKWARD_APP`` beneath them."""
    layer = Layer(label="environment")
    for name, key in LEGACY_ENV.items():
        if environ.get(name):
            layer.data.setdefault(key[0], {})[key[1]] = environ[name]
            layer.labels[key] = f"${name}"
    source = _MappingEnvSource(settings, environ)
    try:
        values = source()
    except SettingsError as exc:
        layer.problems.append(Problem("environment", (), str(exc)))
        return layer
    merge(layer.data, values)
    for name in environ:
        upper = name.upper()
        if upper.startswith(ENV_PREFIX) and NESTED in upper:
            path = tuple(upper[len(ENV_PREFIX) :].lower().split(NESTED))
            layer.labels[path] = f"${name}"
    return layer


class _MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' environment source, reading a given mapping (tests, reloads)."""

    def __init__(self, settings: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(
            settings,
            case_sensitive=False,
            env_prefix=ENV_PREFIX,
            env_nested_delimiter=NESTED,
            env_parse_none_str="null",
        )

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {k.lower(): v for k, v in self._environ.items()}

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        """Not JSON: keep the text, so validation reports it against its key and variable."""
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError:
            return value


def from_overrides(overrides: Mapping[str, Any] | None) -> Layer:
    """Command-line values as nested tables; ``None`` means "flag not given" and is dropped."""
    layer = Layer(label="command line")
    layer.data = _drop_none(dict(overrides or {}))
    return layer


def _drop_none(table: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, Mapping):
            value = _drop_none(value)
            if not value:
                continue
        if value is not None:
            out[key] = value
    return out


def merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``top`` into ``base`` (tables merge key by key; anything else replaces)."""
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = _copy(value)
    return base


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    return list(value) if isinstance(value, list) else value
