"""``[instrumentation]`` applied: core's signals on, and the OpenTelemetry SDK when asked.

core only uses the OpenTelemetry API; with ``exporter = "otlp"`` or ``"console"``
this builds an SDK tracer provider (sampling, service name, exporter) for this
app alone, so the host's global provider is left as it is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from taskward.core import Taskward
from taskward.core.instrumentation import (
    Instrumentation,
    InstrumentationConfig,
    LogsConfig,
    MetricsConfig,
    TracingConfig,
    instrument,
)
from taskward.ops.config.model import TaskwardConfig
from taskward.ops.config.problems import ConfigError, Problem
from taskward.ops.config.sections.instrumentation import InstrumentationSection, TracingSection


@dataclass(slots=True)
class Signals:
    """The instrumentation of one app and the SDK provider made for it (if any)."""

    instrumentation: Instrumentation
    tracer_provider: Any = None

    def close(self) -> None:
        """Detach from the app, then flush and stop the exporter."""
        self.instrumentation.close()
        if self.tracer_provider is not None:
            self.tracer_provider.shutdown()


def core_config(section: InstrumentationSection) -> InstrumentationConfig:
    """The section as core's typed settings."""
    m, t, lg = section.metrics, section.tracing, section.logs
    return InstrumentationConfig(
        metrics=MetricsConfig(
            task_label=m.task_label,
            max_error_types=m.max_error_types,
            collector=m.collector,
            collector_ttl=m.collector_ttl,
            stale_after=m.stale_after,
            semconv_mirror=m.semconv_mirror,
        ),
        tracing=TracingConfig(relationship=t.relationship, create_spans=t.create_spans),
        logs=LogsConfig(
            min_level=logging.getLevelName(lg.level),
            max_records=lg.max_records,
            max_message_bytes=lg.max_message_bytes,
            include_args=lg.include_args,
        ),
        service_name=section.service_name,
    )


def instrument_app(app: Taskward, config: TaskwardConfig) -> Signals:
    """Turn on what ``[instrumentation]`` asks for; create workers afterwards (they pick up
    its middleware). Close the result when the process is done."""
    section = config.instrumentation
    provider = tracer_provider(section.tracing, section.service_name, str(config.file or ""))
    inst = instrument(
        app,
        metrics=section.metrics.enabled,
        tracing=section.tracing.enabled,
        logs=section.logs.capture,
        config=core_config(section),
        tracer_provider=provider,
    )
    return Signals(inst, provider)


def tracer_provider(tracing: TracingSection, service: str, source: str) -> Any:
    """An SDK tracer provider for ``exporter``; None for ``"none"`` (the global provider)."""
    if tracing.exporter == "none" or not tracing.enabled:
        return None
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import (
            BatchSpanProcessor,
            ConsoleSpanExporter,
            SimpleSpanProcessor,
        )
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
    except ImportError:
        problem = "needs the OpenTelemetry SDK: pip install 'taskward-ops[otlp]'"
        raise ConfigError(
            [
                Problem(
                    source or "configuration", ("instrumentation", "tracing", "exporter"), problem
                )
            ]
        ) from None
    provider = TracerProvider(
        resource=Resource.create({"service.name": service}),
        sampler=ParentBased(TraceIdRatioBased(tracing.sampling)),
    )
    if tracing.exporter == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
        return provider
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    assert tracing.endpoint is not None  # the section insists on one for otlp
    exporter = OTLPSpanExporter(
        endpoint=tracing.endpoint.get_secret_value(),
        headers={k: v.get_secret_value() for k, v in tracing.headers.items()},
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider
