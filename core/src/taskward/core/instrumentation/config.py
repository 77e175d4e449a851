"""Typed, frozen settings for the three signals; ``taskward.toml`` maps onto these.

Defaults are the contract's (OBSERVABILITY.md): bucket sets, the 20-value
``error_type`` cap, a 10 s collector cache, EXPLAIN estimates above 50,000
rows per state, link-mode tracing, and log capture at INFO with 1,000 records
and 8 KiB per message.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
WAIT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
#: Seconds the signals' threads (bus subscribers, log writer) let work pile up after each
#: wake-up: a busy worker then pays a thread switch at most 100 times a second, not per
#: batch. Short, so the events waiting die young (held past the GC's youngest generation,
#: every one of them would be scanned again by its next).
LINGER = 0.01


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricsConfig:
    """Prometheus metrics: event counters/histograms and the database collector."""

    duration_buckets: Sequence[float] = DURATION_BUCKETS
    """Buckets of ``taskward_job_duration_seconds``."""
    wait_buckets: Sequence[float] = WAIT_BUCKETS
    """Buckets of ``taskward_job_queue_wait_seconds``."""
    fast_buckets: Sequence[float] = FAST_BUCKETS
    """Buckets of ``taskward_claim_duration_seconds``."""
    task_label: bool = True
    """False drops ``task`` from the histograms (installations with hundreds of tasks)."""
    max_error_types: int = 20
    """Distinct ``error_type`` values kept per (queue, task); later ones count as ``_OTHER``."""
    queues: Sequence[str] = ()
    """Queues to zero-fill besides those of registered tasks and the database."""
    collector: bool = True
    """Read queue depth, ages, workers and leadership from the database at scrape time."""
    collector_ttl: float = 10.0
    """Seconds a collector reading is reused, so many scrapers cost one set of queries."""
    estimate_above: int = 50_000
    """On PostgreSQL, states with more rows than this are counted by EXPLAIN estimate."""
    stale_after: float = 15.0
    """A worker whose heartbeat is older than this (3 x the default interval) is stale."""
    semconv_mirror: bool = False
    """Also record OpenTelemetry's messaging semconv metrics through the API (OTLP sites)."""

    def __post_init__(self) -> None:
        _at_least("metrics.max_error_types", self.max_error_types, 1)
        _at_least("metrics.collector_ttl", self.collector_ttl, 0)
        _at_least("metrics.stale_after", self.stale_after, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class TracingConfig:
    """OpenTelemetry spans through the API; the SDK is configured by ops or the user."""

    relationship: Literal["link", "child"] = "link"
    """``link``: each attempt is a new trace linked to its enqueue; ``child``: one trace."""
    create_spans: bool = False
    """A bulk enqueue also makes one ``create {queue}`` span per job, each row carrying
    its own (semconv batch advice); off: every row carries the one ``send`` span."""

    def __post_init__(self) -> None:
        if self.relationship not in ("link", "child"):
            raise ValueError(
                f'tracing.relationship: expected "link" or "child", got {self.relationship!r}'
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class LogsConfig:
    """Capture of what handlers log during an attempt."""

    min_level: int = logging.INFO
    """Records below this level are not captured (they still reach normal handlers)."""
    max_records: int = 1000
    """Records kept per attempt; past it one final record says how many were dropped."""
    max_message_bytes: int = 8192
    """Messages and exception texts are cut to this many UTF-8 bytes."""
    include_args: bool = False
    """Put the job's args in its lifecycle record (off by default: args may hold PII)."""
    max_args_bytes: int = 1024
    """Cap of the args text when ``include_args`` is on."""
    max_pending_rows: int = 50_000
    """Rows waiting for the writer before new attempts' logs are dropped (and counted)."""

    def __post_init__(self) -> None:
        _at_least("logs.max_records", self.max_records, 1)
        _at_least("logs.max_message_bytes", self.max_message_bytes, 64)
        _at_least("logs.max_args_bytes", self.max_args_bytes, 16)
        _at_least("logs.max_pending_rows", self.max_pending_rows, 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class InstrumentationConfig:
    """Everything :func:`taskward.core.instrumentation.instrument` can be told."""

    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    tracing: TracingConfig = field(default_factory=TracingConfig)
    logs: LogsConfig = field(default_factory=LogsConfig)
    service_name: str = "taskward-worker"
    """``service.name`` in JSON log lines."""


def _at_least(key: str, value: float, minimum: float) -> None:
    if not isinstance(value, int | float) or value < minimum:
        raise ValueError(f"{key}: expected a number >= {minimum}, got {value!r}")
