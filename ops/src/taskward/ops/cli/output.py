"""Printing a command's result: a rich table for people, JSON or YAML for scripts.

Tables fit the terminal (80 columns included: long ids and arguments end in an
ellipsis); ``--wide`` shows every value whole, and on a pipe never wraps them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from taskward.ops.cli._options import Output

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

#: A piped ``--wide`` table is as wide as its content: no value is ever cut or wrapped.
UNBOUNDED = 10_000


def console(*, wide: bool = False, stderr: bool = False) -> Console:
    """A console on stdout (or stderr) sized for the terminal, ``$COLUMNS`` or 80."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = UNBOUNDED if wide and not stream.isatty() else None
    return Console(file=stream, width=width, highlight=False, markup=False, soft_wrap=False)


def choose(output: Output, as_json: bool) -> Output:
    """``--json`` is kept as a short way to say ``--output json``."""
    return Output.JSON if as_json else output


def emit(
    output: Output,
    data: Callable[[], Any],
    render: Callable[[], Iterable[RenderableType]],
    *,
    wide: bool = False,
) -> None:
    """Print ``data()`` as JSON/YAML, or ``render()``'s renderables as a table."""
    if output is Output.JSON:
        from taskward.ops.serialize import dumps

        sys.stdout.write(dumps(data(), indent=2) + "\n")
    elif output is Output.YAML:
        import yaml

        from taskward.ops.serialize import plain

        sys.stdout.write(yaml.safe_dump(plain(data()), sort_keys=False, allow_unicode=True))
    else:
        renderables = list(render())
        if renderables:
            console(wide=wide).print(*renderables)
