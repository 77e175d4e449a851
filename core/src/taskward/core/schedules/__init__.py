"""Cron schedules: recurring jobs fired by the elected leader, exactly once per fire time."""

from taskward.core.schedules.cron import Schedule
from taskward.core.schedules.scheduler import Schedules
from taskward.core.schedules.state import ScheduleInfo

__all__ = ["Schedule", "ScheduleInfo", "Schedules"]
