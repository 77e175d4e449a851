"""Workers: claim, run and settle jobs."""

from taskward.core.attempt import AttemptContext, current_attempt
from taskward.core.worker.executor import Executor, Middleware, error_type
from taskward.core.worker.worker import Worker

__all__ = ["AttemptContext", "Executor", "Middleware", "Worker", "current_attempt", "error_type"]
