"""Metrics, traces and execution logs, hung off the core's seams: ``instrument(app)``."""

from taskward.core.instrumentation.api import Instrumentation, MetricsServer, instrument
from taskward.core.instrumentation.config import (
    DURATION_BUCKETS,
    FAST_BUCKETS,
    WAIT_BUCKETS,
    InstrumentationConfig,
    LogsConfig,
    MetricsConfig,
    TracingConfig,
)
from taskward.core.instrumentation.jsonlog import JsonLineFormatter
from taskward.core.instrumentation.logstore import LogEntry, LogPage, logs_for

__all__ = [
    "DURATION_BUCKETS",
    "FAST_BUCKETS",
    "WAIT_BUCKETS",
    "Instrumentation",
    "InstrumentationConfig",
    "JsonLineFormatter",
    "LogEntry",
    "LogPage",
    "LogsConfig",
    "MetricsConfig",
    "MetricsServer",
    "TracingConfig",
    "instrument",
    "logs_for",
]
