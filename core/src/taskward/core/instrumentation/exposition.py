"""``/metrics`` for an Instrumentation's own registry, rendered without the generic path.

prometheus-client escapes every sample name character by character on its
OpenMetrics path (the format Prometheus asks for), which makes a scrape of a
few thousand samples take tens of milliseconds. The names and label names here
are Taskward's own, known to be valid, so only label values need escaping.
The output is the text format 0.0.4 or OpenMetrics 1.0.0 (with exemplars), as
negotiated, less the optional ``_created`` samples (in the text format they
would be ingested as extra series).
"""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from socketserver import ThreadingMixIn
from typing import Any, cast
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import utils
from prometheus_client.registry import CollectorRegistry
from prometheus_client.samples import Sample

TEXT = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
_SKIPPED = ("_created", "_gsum", "_gcount")
_number = cast(Callable[[float], str], utils.floatToGoString)  # as Go (and the library) print


def render(registry: CollectorRegistry, openmetrics: bool) -> str:
    """The registry's samples in the text format, or OpenMetrics with exemplars."""
    out: list[str] = []
    for family in registry.collect():
        name, kind = family.name, family.type
        if not openmetrics and kind == "counter":
            name += "_total"
        out.append(f"# HELP {name} {_escape(family.documentation)}\n# TYPE {name} {kind}\n")
        skipped = tuple(family.name + suffix for suffix in _SKIPPED)
        out.extend(_line(s, openmetrics) for s in family.samples if s.name not in skipped)
    if openmetrics:
        out.append("# EOF\n")
    return "".join(out)


def _line(sample: Sample, openmetrics: bool) -> str:
    labels = _labels(sample.labels)
    line = f"{sample.name}{labels} {_number(sample.value)}"
    exemplar = sample.exemplar
    if openmetrics and exemplar is not None:
        line += f" # {_labels(exemplar.labels)} {_number(exemplar.value)}"
        if exemplar.timestamp is not None:
            line += f" {exemplar.timestamp}"
    return line + "\n"


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items())) + "}"


def _escape(value: str) -> str:
    if "\\" in value or "\n" in value or '"' in value:
        return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return value


def metrics_app(registry: CollectorRegistry) -> Callable[..., Iterable[bytes]]:
    """A WSGI app serving ``registry`` on ``/metrics`` (and ``/``)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        if environ.get("PATH_INFO", "/") not in ("/", "/metrics"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            yield b"not found\n"
            return
        accept = environ.get("HTTP_ACCEPT", "")
        openmetrics = any(
            part.split(";")[0].strip() == "application/openmetrics-text"
            for part in accept.split(",")
        )
        body = render(registry, openmetrics).encode()
        headers = [("Content-Type", OPENMETRICS if openmetrics else TEXT)]
        if "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""):
            body = gzip.compress(body, compresslevel=1)
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        start_response("200 OK", headers)
        yield body

    return app


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not worth a log line each."""


def serve(registry: CollectorRegistry, port: int, addr: str) -> tuple[WSGIServer, threading.Thread]:
    """Serve ``/metrics`` from a daemon thread; ``port`` 0 picks a free one."""
    server_class = type("_Server", (_Server,), {"address_family": _family(addr)})
    server: WSGIServer = make_server(
        addr, port, metrics_app(registry), server_class, handler_class=_Quiet
    )
    thread = threading.Thread(target=server.serve_forever, name="taskward-metrics", daemon=True)
    thread.start()
    return server, thread


def _family(addr: str) -> socket.AddressFamily:
    infos = socket.getaddrinfo(addr, None, type=socket.SOCK_STREAM)
    return infos[0][0] if infos else socket.AF_INET
