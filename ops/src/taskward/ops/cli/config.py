"""``taskward config check|show|schema``: the config file without starting anything."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # imported when a command runs: --help stays light
    from taskward.ops.config import TaskwardConfig

config = typer.Typer(
    help="Check, show and describe taskward.toml.", no_args_is_help=True, rich_markup_mode=None
)

#: ``--config PATH`` for every command that reads the file.
ConfigPath = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="The config file (default: $TASKWARD_CONFIG, else ./taskward.toml if present).",
        dir_okay=False,
    ),
]


def load_or_exit(path: Path | None) -> TaskwardConfig:
    """The configuration, or every problem on stderr (one a line) and exit status 2."""
    from taskward.ops.config import ConfigError, load_settings

    try:
        return load_settings(path)
    except ConfigError as exc:
        _fail(exc.lines())
        raise AssertionError("unreachable") from None


def _fail(lines: list[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr)
    raise typer.Exit(2)


@config.command()
def check(config_path: ConfigPath = None) -> None:
    """Validate the configuration (and the app's task names); exit 2 listing every error."""
    from taskward.ops.config.apply import build_policies
    from taskward.ops.errors import OpsError
    from taskward.ops.loader import load_app

    settings = load_or_exit(config_path)
    if settings.app.module:
        try:
            app = load_app(settings.app.module)
        except OpsError as exc:
            _fail([f"{settings.file or 'configuration'}: app.module: {exc}"])
        try:
            problems = build_policies(settings, list(app.tasks)).problems
        finally:
            app.close()
        if problems:
            _fail([str(p) for p in problems])
    where = settings.file or "embedded defaults (no taskward.toml found)"
    counts = ", ".join(
        _count(len(table), what)
        for table, what in (
            (settings.queues, "queue table"),
            (settings.tasks, "task override"),
            (settings.schedules, "schedule"),
        )
    )
    typer.echo(f"{where}: OK ({counts})")


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


@config.command()
def show(
    config_path: ConfigPath = None,
    output: Annotated[str, typer.Option("--output", "-o", help="toml, json or yaml.")] = "toml",
) -> None:
    """Print the effective configuration (file, environment and defaults), secrets masked."""
    from taskward.ops.config.render import Format, render

    if output not in ("toml", "json", "yaml"):
        _fail([f"--output: expected toml, json or yaml, got {output!r}"])
    fmt: Format = output  # type: ignore[assignment]
    sys.stdout.write(render(load_or_exit(config_path), fmt).rstrip("\n") + "\n")


@config.command()
def schema() -> None:
    """Print the JSON Schema of taskward.toml, for editors (e.g. Even Better TOML)."""
    from taskward.ops.config import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
