"""``TaskwardConfig``: the whole of ``taskward.toml``, one frozen, validated value."""

from __future__ import annotations

from pathlib import Path

from pydantic import PrivateAttr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from taskward.ops.config.sections import (
    AppSection,
    DatabaseSection,
    InstrumentationSection,
    QueueSection,
    RetentionSection,
    ScheduleSection,
    TaskSection,
    WorkerSection,
)

#: Sections later issues fill in; until then naming one is a clear error.
RESERVED = ("api", "notifications", "archive", "backup", "alerts")


class TaskwardConfig(BaseSettings):
    """Every policy of a Taskward installation. Build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="TASKWARD_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
        validate_default=True,
    )

    database: DatabaseSection = DatabaseSection()
    """Where the jobs live."""
    app: AppSection = AppSection()
    """The application whose tasks run here."""
    worker: WorkerSection = WorkerSection()
    """How a worker runs: its queues, heartbeat, shutdown grace and /metrics."""
    queues: dict[str, QueueSection] = {}
    """Per queue: ``[queues.emails] concurrency = 5``."""
    tasks: dict[str, TaskSection] = {}
    """Per task, by dotted name: ``[tasks."billing.charge"] max_attempts = 3``."""
    schedules: dict[str, ScheduleSection] = {}
    """Recurring jobs: ``[schedules.nightly] task = "...", cron = "0 3 * * *"``."""
    instrumentation: InstrumentationSection = InstrumentationSection()
    """Metrics, traces and execution-log capture."""
    retention: RetentionSection = RetentionSection()
    """How long finished jobs are kept."""

    _file: Path | None = PrivateAttr(default=None)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only the values given: :func:`load_settings` reads and merges the sources itself,
        so that each error can name the file or variable it came from."""
        return (init_settings,)

    @property
    def file(self) -> Path | None:
        """The file this configuration was read from (None: defaults and environment only)."""
        return self._file

    def queue_concurrency(self, queue: str) -> int:
        """Slots one worker gives ``queue``: its ``[queues]`` table, else ``[worker]``'s."""
        section = self.queues.get(queue)
        if section is not None and section.concurrency is not None:
            return section.concurrency
        return self.worker.concurrency
