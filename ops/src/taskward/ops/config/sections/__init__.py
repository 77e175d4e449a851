"""One module per ``taskward.toml`` section; each a frozen pydantic model.

Adding a section (``[api]``, ``[notifications]``, …) is three small steps:

1. a module here with a :class:`Section` subclass, a docstring per field;
2. one field on :class:`taskward.ops.config.TaskwardConfig` (and remove the
   name from ``RESERVED`` there);
3. if it changes a running process, a step in ``apply.py`` and, when it can
   change live, a line in ``reload.py``.
"""

from taskward.ops.config.sections._base import Section
from taskward.ops.config.sections.database import DatabaseSection
from taskward.ops.config.sections.instrumentation import InstrumentationSection
from taskward.ops.config.sections.queues import LimitSection, QueueSection
from taskward.ops.config.sections.retention import RetentionSection
from taskward.ops.config.sections.schedules import ScheduleSection
from taskward.ops.config.sections.tasks import TaskSection
from taskward.ops.config.sections.worker import AppSection, WorkerSection

__all__ = [
    "AppSection",
    "DatabaseSection",
    "InstrumentationSection",
    "LimitSection",
    "QueueSection",
    "RetentionSection",
    "ScheduleSection",
    "Section",
    "TaskSection",
    "WorkerSection",
]
