"""The admin service (every operator change, for the CLI and the API) and what it lists."""

from taskward.core.store.jobquery import JobFilter
from taskward.ops.admin.service import Admin, BulkResult, ScheduleNotLoadedError

__all__ = ["Admin", "BulkResult", "JobFilter", "ScheduleNotLoadedError"]
