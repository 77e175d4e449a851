"""Fixtures for the observability tests: the real OTel SDK, an instrumented app, a task logger."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from taskward.core import Taskward
from taskward.core.instrumentation import Instrumentation, InstrumentationConfig, instrument


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer_provider(spans: InMemorySpanExporter) -> Iterator[TracerProvider]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    yield provider
    provider.shutdown()


MakeInst = Callable[..., Instrumentation]


@pytest.fixture
def make_inst(tracer_provider: TracerProvider) -> Iterator[MakeInst]:
    """``make_inst(app, **config)``: instrument ``app`` with the test tracer provider."""
    made: list[Instrumentation] = []

    def make(app: Taskward, config: InstrumentationConfig | None = None) -> Instrumentation:
        inst = instrument(app, config=config, tracer_provider=tracer_provider)
        made.append(inst)
        return inst

    yield make
    for inst in made:
        inst.close()


@pytest.fixture
def inst(app: Taskward, make_inst: MakeInst) -> Instrumentation:
    return make_inst(app)


@pytest.fixture
def task_log() -> Iterator[logging.Logger]:
    """The logger the test tasks log to, let through at INFO (pytest leaves root at WARNING)."""
    logger = logging.getLogger("tests.observability.task")
    logger.setLevel(logging.INFO)
    yield logger
    logger.setLevel(logging.NOTSET)


def sample(inst: Instrumentation, name: str, **labels: str) -> float:
    """A sample's value in the app's registry (0 when absent)."""
    return inst.registry.get_sample_value(name, labels) or 0.0


def totals(inst: Instrumentation, name: str, by: str) -> Counter[str]:
    """A counter's values summed by one label (``name`` without ``_total``)."""
    out: Counter[str] = Counter()
    for family in inst.registry.collect():
        for s in family.samples:
            if s.name == f"{name}_total" and s.value:
                out[s.labels[by]] += int(s.value)
    return out
