"""Exceptions raised by taskward.core. One root; each docstring is the default message."""

from __future__ import annotations


class TaskwardError(Exception):
    """A Taskward operation failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class InvalidJobError(TaskwardError, ValueError):
    """The job is not valid; nothing was written."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"invalid job: {field}: {problem}")


class UnknownTaskError(InvalidJobError):
    """No task is registered under that name."""

    def __init__(self, name: str, known: list[str]) -> None:
        hint = f" (known tasks: {', '.join(sorted(known)[:10])})" if known else ""
        super().__init__("task", f"no task named {name!r} is registered{hint}")


class DependencyCycleError(InvalidJobError):
    """The dependencies of a workflow form a cycle."""


class DatabaseUnavailableError(TaskwardError):
    """The database could not be reached."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        super().__init__(f"cannot use database {url}: {reason}")


class SchemaOutOfDateError(TaskwardError):
    """The database schema is older than this version of Taskward."""

    def __init__(self, url: str, current: str | None, head: str, database_arg: str) -> None:
        super().__init__(
            f"database {url} is at schema revision {current or 'none'}, this Taskward needs"
            f" {head}: run `taskward db upgrade --database {database_arg}`"
        )


class IllegalTransitionError(TaskwardError):
    """A job was to move between states that ``states.TRANSITIONS`` does not connect."""

    def __init__(self, moves: list[str]) -> None:
        self.moves = moves
        super().__init__(f"not in states.TRANSITIONS: {'; '.join(moves)}")


class JobNotFoundError(TaskwardError, LookupError):
    """No job has that id."""

    def __init__(self, job_id: object) -> None:
        super().__init__(f"no job with id {job_id}")


class JobTimeoutError(TaskwardError, TimeoutError):
    """The attempt ran longer than the task's timeout."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"attempt exceeded its timeout of {seconds:g}s")


class JobCancelledError(TaskwardError):
    """The job was cancelled while it was running."""


class InvalidScheduleError(TaskwardError, ValueError):
    """The schedule is not valid; nothing was registered."""

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        super().__init__(f"invalid schedule {name!r}: {problem}")


class ScheduleNotFoundError(TaskwardError, LookupError):
    """No schedule has that name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no schedule named {name!r}")


class WorkflowNotFoundError(TaskwardError, LookupError):
    """No workflow has that id."""

    def __init__(self, workflow_id: object) -> None:
        super().__init__(f"no workflow with id {workflow_id}")


class InvalidLimitError(TaskwardError, ValueError):
    """The rate or concurrency limit is not valid."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"invalid limit: {problem}")
