"""``load_settings``: find, read, merge and validate the configuration, all or nothing."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import Any

from pydantic import ValidationError

from taskward.ops.config.model import RESERVED, TaskwardConfig
from taskward.ops.config.problems import ConfigError, Problem, from_validation
from taskward.ops.config.problems import Path as KeyPath
from taskward.ops.config.sources import (
    Layer,
    find_config_file,
    from_overrides,
    merge,
    read_env,
    read_file,
)


def load_settings(
    config_path: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> TaskwardConfig:
    """The effective configuration: defaults < file < environment < ``overrides``.

    Call it once at the start of every command with the ``--config`` value (or None)
    and the command's own flags as nested tables, leaving out (or as None) flags
    that were not given, e.g.
    ``load_settings(config, {"database": {"url": database}, "app": {"module": app}})``.

    The file is ``config_path``, else ``$TASKWARD_CONFIG``, else ``./taskward.toml``
    if it exists; with none the embedded defaults apply. Environment variables
    ``TASKWARD_SECTION__KEY`` (``TASKWARD_QUEUES__EMAILS__CONCURRENCY=5``) override
    the file; ``${VAR}`` inside the file is filled from the environment.

    Raises :class:`ConfigError` listing every problem (print ``err.lines()``, one per
    line, and exit non-zero). Nothing is returned half-validated.
    """
    env = os.environ if environ is None else environ
    path = find_config_file(config_path, env)
    layers = [
        read_file(path, env) if path is not None else Layer(label="defaults"),
        read_env(TaskwardConfig, env),
        from_overrides(overrides),
    ]
    problems = [p for layer in layers for p in layer.problems]
    if any(p.path == () for p in layers[0].problems):
        raise ConfigError(problems)  # the file itself is unusable: nothing else to check
    data: dict[str, Any] = {}
    for layer in layers:
        merge(data, layer.data)
    try:
        config = TaskwardConfig.model_validate(data)
    except ValidationError as exc:
        found = from_validation(exc, data, json_schema(), _namer(layers))
        problems += [_reserved(p) for p in found]
    if problems:
        raise ConfigError(problems)
    config._file = path
    return config


def _reserved(problem: Problem) -> Problem:
    """``[api]`` and friends are unknown only until their issues add them: say so."""
    if len(problem.path) == 1 and problem.path[0] in RESERVED:
        message = "this section is not supported by this version of Taskward yet"
        return Problem(problem.source, problem.path, message)
    return problem


def _namer(layers: list[Layer]) -> Any:
    """Name the layer that set a key: the deepest match, the later layer on a tie."""

    def source_of(path: KeyPath) -> str:
        best = (0, layers[0].label)
        for layer in layers:
            depth, label = layer.match(path)
            if depth and depth >= best[0]:
                best = (depth, label)
        return best[1]

    return source_of


@cache
def json_schema() -> dict[str, Any]:
    """The JSON Schema of ``taskward.toml`` (``taskward config schema``)."""
    schema = TaskwardConfig.model_json_schema()
    schema["title"] = "taskward.toml"
    return schema
