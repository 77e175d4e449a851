"""Exceptions raised by taskward.ops. One root; each docstring is the default message."""

from __future__ import annotations


class OpsError(Exception):
    """A Taskward operations command failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class BadInputError(OpsError):
    """A command-line value is not valid; nothing was written."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"invalid {field}: {problem}")


class AppLoadError(BadInputError):
    """The --app value does not name a Taskward application."""

    def __init__(self, spec: str, problem: str) -> None:
        super().__init__("--app", f"{spec!r}: {problem}")


class AppImportError(OpsError):
    """Importing the --app module raised an exception."""

    def __init__(self, spec: str, module: str, error: BaseException) -> None:
        detail = " ".join(str(error).split())
        super().__init__(
            f"--app {spec!r}: importing {module} raised {type(error).__name__}"
            + (f": {detail}" if detail else "")
        )
