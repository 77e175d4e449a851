"""Taskward core: durable jobs on SQLite and PostgreSQL, workers, retries and events."""

from taskward.core._gc import manage_gc
from taskward.core.app import Taskward
from taskward.core.clock import Clock, FakeClock, SystemClock
from taskward.core.errors import (
    DatabaseUnavailableError,
    InvalidJobError,
    JobCancelledError,
    JobNotFoundError,
    JobTimeoutError,
    SchemaOutOfDateError,
    TaskwardError,
    UnknownTaskError,
)
from taskward.core.job import Job
from taskward.core.outcomes import Cancel, Retry, Snooze
from taskward.core.retry import Constant, Exponential, Fibonacci, Linear, RetryPolicy
from taskward.core.states import JobState
from taskward.core.task import JobSpec, Task, Unique
from taskward.core.worker import AttemptContext, Worker, current_attempt

__version__ = "0.1.0"

__all__ = [
    "AttemptContext",
    "Cancel",
    "Clock",
    "Constant",
    "DatabaseUnavailableError",
    "Exponential",
    "FakeClock",
    "Fibonacci",
    "InvalidJobError",
    "Job",
    "JobCancelledError",
    "JobNotFoundError",
    "JobSpec",
    "JobState",
    "JobTimeoutError",
    "Linear",
    "Retry",
    "RetryPolicy",
    "SchemaOutOfDateError",
    "Snooze",
    "SystemClock",
    "Task",
    "Taskward",
    "TaskwardError",
    "Unique",
    "UnknownTaskError",
    "Worker",
    "__version__",
    "current_attempt",
    "manage_gc",
]
