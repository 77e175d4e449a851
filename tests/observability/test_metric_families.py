"""Taskward's own metric families expose what prometheus-client's would, and a scrape
never sees an event half recorded."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import pytest
from opentelemetry.trace import SpanContext, TraceFlags
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import Metric

from taskward.core import Job, JobState, Taskward
from taskward.core._ids import uuid7
from taskward.core.events import JobCompleted
from taskward.core.instrumentation import Instrumentation
from taskward.core.instrumentation.config import DURATION_BUCKETS
from taskward.core.instrumentation.families import CounterFamily, HistogramFamily
from taskward.core.outcomes import SpanRef

VALUES = (0.0, 0.003, 0.01, 0.0100001, 0.7, 42.0, 3600.0, 1e6)


def span(n: int) -> SpanRef:
    return SpanRef(SpanContext(n << 64 | n, n, is_remote=False, trace_flags=TraceFlags(1)))


def comparable(metrics: Iterable[Metric]) -> list[tuple[object, ...]]:
    """Samples without ``_created`` (we never export it) or exemplar timestamps."""
    out: list[tuple[object, ...]] = []
    for metric in metrics:
        for s in metric.samples:
            if not s.name.endswith("_created"):
                ex = s.exemplar and (s.exemplar.labels, s.exemplar.value)
                out.append((s.name, s.labels, s.value, ex))
    return out


def test_histogram_and_counter_samples_equal_the_librarys() -> None:
    registry = CollectorRegistry()
    their_hist = Histogram("h_seconds", "h", ["queue"], buckets=DURATION_BUCKETS, registry=registry)
    their_counter = Counter("c", "c", ("queue", "outcome"), registry=registry)
    our_hist = HistogramFamily("h_seconds", "h", ("queue",), DURATION_BUCKETS)
    our_counter = CounterFamily("c", "c", ("queue", "outcome"))
    for n, value in enumerate(VALUES, start=1):
        queue, sampled = ("a", "b")[n % 2], span(n) if n % 3 else None
        ids = sampled and {"trace_id": sampled.trace_id, "span_id": sampled.span_id}
        their_hist.labels(queue).observe(value, ids)
        our_hist.observe((queue,), value, sampled)
        their_counter.labels(queue, "completed").inc(1, ids)
        our_counter.inc((queue, "completed"), 1.0, sampled)
    ours = comparable([our_hist.copy().metric(), our_counter.copy().metric()])
    assert ours == comparable(registry.collect())
    assert any(sample[3] for sample in ours)  # exemplars were compared too


def test_buckets_are_checked_like_the_librarys() -> None:
    with pytest.raises(ValueError, match="sorted"):
        HistogramFamily("h", "h", (), (1.0, 0.5))
    with pytest.raises(ValueError, match="finite"):
        HistogramFamily("h", "h", (), (float("inf"),))
    assert HistogramFamily("h", "h", (), (1.0, float("inf"))).bounds == [1.0]


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Let threads preempt each other every microsecond, so a torn read would show."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("fast_switching")
def test_a_scrape_never_sees_half_an_event(app: Taskward, inst: Instrumentation) -> None:
    assert inst.metrics is not None
    now = datetime.now(UTC)
    job = Job(id=uuid7(), queue="torn", task="t", state=JobState.COMPLETED, attempted_at=now)
    event = JobCompleted(at=now, job=job, duration=0.5, span=span(7))
    done = threading.Event()

    def record() -> None:
        for _ in range(20_000):
            inst.metrics.handle(event)  # type: ignore[union-attr]
        done.set()

    def consistent_count() -> float:
        samples = {
            (s.name, s.labels.get("le")): s.value
            for metric in inst.registry.collect()
            if metric.name in ("taskward_job_attempts", "taskward_job_duration_seconds")
            for s in metric.samples
            if s.labels.get("queue") == "torn"
        }
        count = samples.get(("taskward_job_duration_seconds_count", None), 0.0)
        assert samples.get(("taskward_job_attempts_total", None), 0.0) == count
        assert samples.get(("taskward_job_duration_seconds_sum", None), 0.0) == count * 0.5
        assert samples.get(("taskward_job_duration_seconds_bucket", "0.5"), 0.0) == count
        return count

    writer = threading.Thread(target=record)
    writer.start()
    counts = []
    while not done.is_set():
        counts.append(consistent_count())
    writer.join()
    assert consistent_count() == 20_000
    assert any(0 < c < 20_000 for c in counts)  # some scrapes did land mid-stream
