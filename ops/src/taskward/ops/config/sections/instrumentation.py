"""``[instrumentation]``: metrics, traces and execution-log capture.

Maps onto core's :class:`~taskward.core.instrumentation.config.InstrumentationConfig`;
the tracing exporter configures the OpenTelemetry SDK (``taskward-ops[otlp]``).
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, model_validator

from taskward.ops.config._types import Duration, PositiveInt, SecretUrl, expected
from taskward.ops.config.sections._base import Section


class MetricsSection(Section):
    enabled: bool = True
    """Prometheus metrics from lifecycle events (serve them with ``[worker] metrics_port``)."""
    task_label: bool = True
    """False drops ``task`` from histograms (installations with hundreds of tasks)."""
    max_error_types: PositiveInt = 20
    """Distinct ``error_type`` label values per (queue, task); more count as ``_OTHER``."""
    collector: bool = True
    """Read queue depth, ages and workers from the database at scrape time."""
    collector_ttl: Duration = 10.0
    """How long one collector reading serves every scraper."""
    stale_after: Duration = 15.0
    """A worker with an older heartbeat counts as stale."""
    semconv_mirror: bool = False
    """Also record OpenTelemetry's messaging metrics through the OTel API."""


class TracingSection(Section):
    enabled: bool = True
    """Spans through the OpenTelemetry API (no-ops until an exporter is configured)."""
    exporter: Literal["none", "otlp", "console"] = "none"
    """``otlp`` sends spans over OTLP/HTTP to ``endpoint``; ``console`` prints them;
    ``none`` leaves the SDK to your own code."""
    endpoint: SecretUrl | None = None
    """OTLP/HTTP traces endpoint, e.g. ``http://collector:4318/v1/traces``."""
    headers: dict[str, SecretStr] = {}
    """Headers sent with every export (API keys: use ``${ENV}``); always masked."""
    sampling: Annotated[float, Field(ge=0, le=1)] = 1.0
    """Fraction of traces kept (parent-based ratio sampling)."""
    relationship: Literal["link", "child"] = "link"
    """``link``: each attempt is its own trace linked to its enqueue; ``child``: one trace."""
    create_spans: bool = False
    """A bulk enqueue also makes one ``create`` span per job."""

    @model_validator(mode="after")
    def _endpoint_for_otlp(self) -> Self:
        if self.exporter == "otlp" and self.endpoint is None:
            raise expected('an endpoint with exporter = "otlp"')
        return self


class LogsSection(Section):
    capture: bool = True
    """Keep what handlers log during an attempt, with the job."""
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    """Records below this level are not captured."""
    max_records: PositiveInt = 1000
    """Records kept per attempt; one final record counts the rest."""
    max_message_bytes: Annotated[int, Field(ge=64)] = 8192
    """Messages are cut to this many UTF-8 bytes."""
    include_args: bool = False
    """Put the job's args in its lifecycle record (off: args may hold personal data)."""


class InstrumentationSection(Section):
    service_name: Annotated[str, Field(min_length=1)] = "taskward-worker"
    """``service.name`` of spans and JSON log lines."""
    metrics: MetricsSection = MetricsSection()
    tracing: TracingSection = TracingSection()
    logs: LogsSection = LogsSection()
