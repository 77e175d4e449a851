"""One entry point that hangs metrics, traces and execution logs off an app's seams.

Nothing is sprinkled through the worker: event metrics subscribe to the bus,
the producer span is an enqueue hook, and only what must wrap the call (the
attempt span, log capture) is middleware, which every
worker of the app picks up (create workers after instrumenting). Each
:class:`Instrumentation` owns its registry, so many apps can live in one process.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry

from taskward.core.bus import Subscription
from taskward.core.events import MaintenanceRan
from taskward.core.instrumentation.collector import DatabaseCollector
from taskward.core.instrumentation.config import LINGER, InstrumentationConfig
from taskward.core.instrumentation.exposition import serve
from taskward.core.instrumentation.logs import LogCapture
from taskward.core.instrumentation.metrics import EventMetrics
from taskward.core.instrumentation.semconv import SemconvMetrics
from taskward.core.instrumentation.tracing import Tracing
from taskward.core.worker.executor import Middleware

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from taskward.core.app import Taskward


class MetricsServer:
    """A ``/metrics`` endpoint served from a daemon thread."""

    def __init__(self, server: WSGIServer, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self.addr = str(server.server_address[0])
        self.port: int = server.server_port

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class Instrumentation:
    """The signals of one app; see :func:`instrument`."""

    def __init__(self, app: Taskward, config: InstrumentationConfig) -> None:
        self.app = app
        self.config = config
        #: This app's own registry (never the global one).
        self.registry = CollectorRegistry()
        self.metrics: EventMetrics | None = None
        self.collector: DatabaseCollector | None = None
        self.tracing: Tracing | None = None
        self.logs: LogCapture | None = None
        #: The middleware it added to ``app.middleware``, outermost first.
        self.middleware: list[Middleware] = []
        self._subscriptions: list[Subscription] = []
        self._servers: list[MetricsServer] = []
        self._closed = False

    def serve_metrics(self, port: int = 0, addr: str = "127.0.0.1") -> MetricsServer:
        """Serve ``/metrics`` on ``addr:port`` (0: a free port, see ``.port``)."""
        server, thread = serve(self.registry, port, addr)
        served = MetricsServer(server, thread)
        self._servers.append(served)
        return served

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until metrics saw every event so far and captured logs are written."""
        done = self.app.bus.flush(timeout)
        return (self.logs.flush(timeout) if self.logs else True) and done

    def close(self) -> None:
        """Detach from the app and stop the servers; captured logs are written first."""
        if self._closed:
            return
        self._closed = True
        for mw in self.middleware:
            if mw in self.app.middleware:
                self.app.middleware.remove(mw)
        if self.tracing is not None and self.tracing.enqueue_hook in self.app.enqueue_hooks:
            self.app.enqueue_hooks.remove(self.tracing.enqueue_hook)
        for subscription in self._subscriptions:
            self.app.bus.unsubscribe(subscription)
        if self.logs is not None:
            self.logs.close()
        for server in self._servers:
            server.close()
        self._servers.clear()


def instrument(
    app: Taskward,
    *,
    metrics: bool = True,
    tracing: bool = True,
    logs: bool = True,
    config: InstrumentationConfig | None = None,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
) -> Instrumentation:
    """Turn on metrics, traces and execution logs for ``app``.

    ``tracer_provider`` and ``meter_provider`` (the latter only for
    ``MetricsConfig(semconv_mirror=True)``) default to the global ones, no-ops until
    ops or the user configures the OpenTelemetry SDK.
    """
    inst = Instrumentation(app, config or InstrumentationConfig())
    cfg = inst.config
    if metrics:
        inst.metrics = em = EventMetrics(app, inst.registry, cfg.metrics)
        inst._subscriptions.append(
            app.bus.subscribe(em.handle, name="taskward-metrics", kinds=em.kinds, linger=LINGER)
        )
        if cfg.metrics.semconv_mirror:
            mirror = SemconvMetrics(cfg.metrics, em.labels, meter_provider)
            inst._subscriptions.append(
                app.bus.subscribe(
                    mirror.handle, name="taskward-semconv", kinds=mirror.kinds, linger=LINGER
                )
            )
        if cfg.metrics.collector:
            inst.collector = DatabaseCollector(app, cfg.metrics, em.local_workers)
            inst.registry.register(inst.collector)
    if tracing:
        inst.tracing = Tracing(app, cfg.tracing, tracer_provider)
        app.enqueue_hooks.append(inst.tracing.enqueue_hook)
        inst._subscriptions.append(
            app.bus.subscribe(
                inst.tracing.maintenance,
                name="taskward-tracing",
                kinds=[MaintenanceRan],
                linger=LINGER,
            )
        )
        inst.middleware.append(inst.tracing.middleware)
    if logs:
        count = inst.metrics.count_log_records if inst.metrics else _ignore_count
        inst.logs = LogCapture(app, cfg.logs, count)
        inst.middleware.append(inst.logs.middleware)
    app.middleware.extend(inst.middleware)
    return inst


def _ignore_count(queue: str, outcome: str, count: int) -> None:
    """Record counts go nowhere when metrics are off."""
