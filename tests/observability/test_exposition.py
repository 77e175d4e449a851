"""Our /metrics rendering says what prometheus-client's would, in both formats."""

from __future__ import annotations

import gzip
import urllib.error
import urllib.request

import pytest
from prometheus_client import generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om
from prometheus_client.parser import text_string_to_metric_families as parse_text

from taskward.core import Taskward, current_attempt
from taskward.core.instrumentation import Instrumentation
from taskward.core.instrumentation.exposition import render
from taskward.core.testing import drain


def samples(families: object) -> set[tuple[str, tuple[tuple[str, str], ...], float, object]]:
    """Every sample but ``_created``, with its exemplar, comparable across renderings."""
    out = set()
    for family in families:  # type: ignore[attr-defined]
        for s in family.samples:
            if not s.name.endswith("_created"):
                exemplar = (
                    (tuple(sorted(s.exemplar.labels.items())), s.exemplar.value)
                    if s.exemplar
                    else None
                )
                out.add((s.name, tuple(sorted(s.labels.items())), s.value, exemplar))
    return out


def test_both_formats_match_the_library(app: Taskward, inst: Instrumentation) -> None:
    @app.task(name='odd "name"\\with\nnewline', max_attempts=2)
    def odd() -> None:
        if current_attempt().job.attempt == 1:
            raise ValueError("once")

    odd.enqueue()
    drain(app, with_scheduled=True)
    inst.flush()
    ours_om = render(inst.registry, openmetrics=True)
    assert ours_om.endswith("# EOF\n")
    assert "_created" not in ours_om
    assert samples(parse_om(ours_om)) == samples(
        parse_om(openmetrics_latest(inst.registry).decode())
    )
    ours_text = render(inst.registry, openmetrics=False)
    assert samples(parse_text(ours_text)) == samples(
        parse_text(generate_latest(inst.registry).decode())
    )
    assert any(s[3] for s in samples(parse_om(ours_om)))  # exemplars came through


def test_the_endpoint_negotiates_format_and_compression(inst: Instrumentation) -> None:
    server = inst.serve_metrics(0, "127.0.0.1")
    url = f"http://127.0.0.1:{server.port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as plain:
        assert plain.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert b"# TYPE taskward_jobs_inserted_total counter" in plain.read()
    request = urllib.request.Request(
        url,
        headers={
            "Accept": "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
            "Accept-Encoding": "gzip",
        },
    )
    with urllib.request.urlopen(request, timeout=5) as reply:
        assert reply.headers["Content-Type"].startswith("application/openmetrics-text")
        body = gzip.decompress(reply.read()).decode()
    assert "# TYPE taskward_jobs_inserted counter" in body and body.endswith("# EOF\n")
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"http://127.0.0.1:{server.port}/other", timeout=5)
    assert missing.value.code == 404
    missing.value.close()
