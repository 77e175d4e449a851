"""Metric families whose samples Taskward owns: plain dicts, updated under the owner's lock.

prometheus-client's Counter and Histogram take a lock per value (one per bucket)
on every update, behind a ``labels()`` lookup; for the event metrics, recorded
several times per job, that was most of their cost. A family here maps a tuple
of label values to a float (counter, gauge) or to a row of bucket counts and
the sum (histogram), updated in plain Python. Nothing here locks: the owner
holds one lock around every update and around :meth:`copy`, so a scrape never
sees a histogram torn between its buckets, ``_count`` and ``_sum``, and builds
its samples from the copy without holding up the writer.

An exemplar is the sampled span of the observation, kept as it is with the value
and the time; its ``{trace_id, span_id}`` are formatted at scrape time, for the
latest exemplar of each series or bucket only.

Samples, label sets, ``le`` values and exemplars are what prometheus-client's
Counter, Gauge and Histogram expose, less the optional ``_created``.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from bisect import bisect_left
from collections.abc import Callable, Sequence
from copy import copy as shallow_copy
from typing import Self, cast

from prometheus_client import utils
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.samples import Exemplar, Sample

from taskward.core.outcomes import SpanRef

Labels = tuple[str, ...]
#: A sampled span, the value observed with it, and when (Unix seconds).
_Seen = tuple[SpanRef, float, float]
_number = cast(Callable[[float], str], utils.floatToGoString)  # the library's ``le`` strings


class _Family(ABC):
    """Name, help and label names, and each series' label dict, made at its first scrape
    and shared by every later one (a scrape is read, never changed)."""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str]) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        #: Shared by every copy; a scrape thread adding to it races only with an equal value.
        self._label_dicts: dict[Labels, dict[str, str]] = {}

    def describe(self) -> Metric:
        """The family without samples (for the registry's name check)."""
        return self._empty()

    @abstractmethod
    def copy(self) -> Self:
        """The family's values as of now (call under the owner's lock)."""

    @abstractmethod
    def metric(self) -> Metric:
        """The family with its samples (of a copy: see ``copy``)."""

    @abstractmethod
    def _empty(self) -> Metric: ...

    def _labels(self, values: Labels) -> dict[str, str]:
        found = self._label_dicts.get(values)
        if found is None:
            found = self._label_dicts[values] = dict(zip(self.labelnames, values, strict=True))
        return found


class _ScalarFamily(_Family):
    """One float per series."""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, documentation, labelnames)
        self.values: dict[Labels, float] = {}

    def zero(self, labels: Labels) -> None:
        """Create the series at 0 (a no-op if it exists)."""
        self.values.setdefault(labels, 0.0)

    def copy(self) -> Self:
        twin = shallow_copy(self)
        twin.values = dict(self.values)
        return twin


class CounterFamily(_ScalarFamily):
    """A counter; ``inc`` with a sampled span keeps it as the series' exemplar."""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, documentation, labelnames)
        self.exemplars: dict[Labels, _Seen] = {}

    def inc(self, labels: Labels, amount: float = 1.0, exemplar: SpanRef | None = None) -> None:
        values = self.values
        values[labels] = values.get(labels, 0.0) + amount
        if exemplar is not None:
            self.exemplars[labels] = (exemplar, amount, time.time())

    def copy(self) -> Self:
        twin = super().copy()
        twin.exemplars = dict(self.exemplars)
        return twin

    def metric(self) -> Metric:
        family = self._empty()
        name, exemplars = f"{family.name}_total", self.exemplars
        family.samples = [
            Sample(name, self._labels(labels), value, None, _exemplar(exemplars.get(labels)))
            for labels, value in self.values.items()
        ]
        return family

    def _empty(self) -> Metric:
        return CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)


class GaugeFamily(_ScalarFamily):
    """A gauge: ``set``, or ``inc`` by any amount."""

    def set(self, labels: Labels, value: float) -> None:
        self.values[labels] = value

    def inc(self, labels: Labels, amount: float = 1.0) -> None:
        values = self.values
        values[labels] = values.get(labels, 0.0) + amount

    def metric(self) -> Metric:
        family = self._empty()
        name = self.name
        family.samples = [
            Sample(name, self._labels(labels), value) for labels, value in self.values.items()
        ]
        return family

    def _empty(self) -> Metric:
        return GaugeMetricFamily(self.name, self.documentation, labels=self.labelnames)


class HistogramFamily(_Family):
    """A histogram: per series, the count in each bucket (not cumulative; ``+Inf`` last),
    then the sum; and the latest exemplar per bucket."""

    def __init__(
        self, name: str, documentation: str, labelnames: Sequence[str], buckets: Sequence[float]
    ) -> None:
        super().__init__(name, documentation, labelnames)
        bounds = [float(b) for b in buckets]
        if bounds != sorted(bounds):
            raise ValueError(f"{name}: buckets not in sorted order: {list(buckets)}")
        if bounds and bounds[-1] == math.inf:
            bounds.pop()
        if not bounds:
            raise ValueError(f"{name}: needs at least one finite bucket")
        #: Finite upper bounds; an observation counts in the first one it does not exceed.
        self.bounds = bounds
        self.rows: dict[Labels, list[float]] = {}
        self.exemplars: dict[Labels, dict[int, _Seen]] = {}
        self._les = [_number(b) for b in (*bounds, math.inf)]
        self._bucket_dicts: dict[Labels, list[dict[str, str]]] = {}

    def observe(self, labels: Labels, value: float, exemplar: SpanRef | None = None) -> None:
        row = self.rows.get(labels)
        if row is None:
            row = self.rows[labels] = [0.0] * (len(self.bounds) + 2)
        bucket = bisect_left(self.bounds, value)
        row[bucket] += 1
        row[-1] += value
        if exemplar is not None:
            self.exemplars.setdefault(labels, {})[bucket] = (exemplar, value, time.time())

    def copy(self) -> Self:
        twin = shallow_copy(self)
        twin.rows = {labels: row.copy() for labels, row in self.rows.items()}
        twin.exemplars = {labels: dict(seen) for labels, seen in self.exemplars.items()}
        return twin

    def metric(self) -> Metric:
        family = self._empty()
        bucket, count, total = f"{self.name}_bucket", f"{self.name}_count", f"{self.name}_sum"
        out = family.samples
        none: dict[int, _Seen] = {}
        for labels, row in self.rows.items():
            seen = self.exemplars.get(labels, none)
            cumulative = 0.0
            for i, le in enumerate(self._buckets(labels)):
                cumulative += row[i]
                out.append(Sample(bucket, le, cumulative, None, _exemplar(seen.get(i))))
            base = self._labels(labels)
            out.append(Sample(count, base, cumulative))
            out.append(Sample(total, base, row[-1]))
        return family

    def _empty(self) -> Metric:
        return HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)

    def _buckets(self, values: Labels) -> list[dict[str, str]]:
        found = self._bucket_dicts.get(values)
        if found is None:
            base = self._labels(values)
            found = self._bucket_dicts[values] = [{**base, "le": le} for le in self._les]
        return found


def _exemplar(seen: _Seen | None) -> Exemplar | None:
    if seen is None:
        return None
    span, value, at = seen
    return Exemplar({"trace_id": span.trace_id, "span_id": span.span_id}, value, at)
