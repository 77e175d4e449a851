"""What the operator-kit tests share: the shipped files, the metric catalogue read from
the code, the PromQL of every dashboard panel and rule, and the real binaries."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from taskward.core import Taskward
from taskward.core import migrate as migrations
from taskward.core.instrumentation import instrument
from tests.services import unavailable

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "dashboards"
ALERTS = ROOT / "alerts"
COMPOSE = ROOT / "compose"
RULES = ALERTS / "taskward.rules.yml"
TARGET_LABELS = {"job", "instance"}
#: Metrics the dashboards and rules already use, with their labels of OBSERVABILITY.md (a),
#: and the issue that adds them to the code.
PENDING = {
    "taskward_notifications_total": ({"channel", "outcome"}, "issue 15 (failure notifications)")
}


def binary(name: str, install: str) -> str:
    found = shutil.which(name)
    if found is None:
        unavailable(f"{name} is not installed ({install}; .ci/install does it)")
    return found


def run(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def load_builder() -> ModuleType:
    """``dashboards/build.py``, which lives outside any package."""
    spec = importlib.util.spec_from_file_location("taskward_dashboards", DASHBOARDS / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def dashboards() -> dict[str, dict[str, Any]]:
    """The shipped dashboard JSON files by file name."""
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARDS.glob("*.json"))}


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel: str
    kind: str
    expr: str


def panel_queries() -> list[PanelQuery]:
    return [
        PanelQuery(name, panel["title"], panel["type"], target["expr"])
        for name, dash in dashboards().items()
        for panel in dash["panels"]
        for target in panel["targets"]
    ]


def rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(RULES.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def catalogue(database_url: str) -> dict[str, set[str]]:
    """Every series name Taskward exports, with its label names, read from a real
    instrumented app's registry (families with no samples still carry their labels)."""
    app = Taskward(database_url)
    migrations.upgrade(app.engine)
    app.task(name="catalogue.noop")(lambda: None)
    inst = instrument(app, tracing=False, logs=False)
    try:
        out: dict[str, set[str]] = {}
        for family in inst.registry.collect():
            labels = set(getattr(family, "_labelnames", ())) | {
                k for s in family.samples for k in s.labels
            }
            labels |= TARGET_LABELS
            if family.type == "counter":
                out[f"{family.name}_total"] = labels
            elif family.type == "histogram":
                out[f"{family.name}_bucket"] = labels | {"le"}
                out[f"{family.name}_sum"] = out[f"{family.name}_count"] = labels
            else:
                out[family.name] = labels
        return out
    finally:
        inst.close()
        app.close()


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_METRIC = re.compile(r"\b(taskward_[a-z0-9_]+|[a-z_]+:[a-z0-9_]+:[a-z0-9_]+|up)\b")
_SELECTOR = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}")
_MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
_GROUPING = re.compile(r"\b(?:by|on|without|ignoring)\s*\(([^)]*)\)")


@dataclass(frozen=True)
class Usage:
    """The series an expression reads, the labels it matches on each, and the labels
    it groups by."""

    metrics: frozenset[str]
    matched: frozenset[tuple[str, str]]
    grouped: frozenset[str]


def usage(expr: str) -> Usage:
    matched = set()
    for name, body in _SELECTOR.findall(expr):
        for label in _MATCHER.findall(_STRINGS.sub('""', body)):
            matched.add((name, label))
    plain = _STRINGS.sub('""', expr)
    grouped = {label.strip() for labels in _GROUPING.findall(plain) for label in labels.split(",")}
    return Usage(
        frozenset(_METRIC.findall(re.sub(r"\{[^}]*\}", "{}", plain))),
        frozenset(matched),
        frozenset(grouped - {""}),
    )


#: What each variable stands for when a query runs outside Grafana.
GRAFANA_VARIABLES = {"$job": ".*", "$queue": ".*", "$task": ".*",
                     "$__rate_interval": "1m", "$__range": "1h"}  # fmt: skip


def substituted(expr: str) -> str:
    for name, value in sorted(GRAFANA_VARIABLES.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace(name, value)
    assert "$" not in expr, expr
    return expr
