"""The Grafana dashboards: current with their builder, typed by @grafana/schema, and held
to the metric catalogue the code exports (names and labels, both ways)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.opkit.support import (
    DASHBOARDS,
    PENDING,
    TARGET_LABELS,
    binary,
    catalogue,
    dashboards,
    load_builder,
    panel_queries,
    rules,
    run,
    substituted,
    usage,
)
from tests.services import unavailable

UIDS = {"taskward-overview.json": "taskward-overview", "taskward-tasks.json": "taskward-tasks",
        "taskward-workers.json": "taskward-workers"}  # fmt: skip


@pytest.fixture(scope="module")
def metrics(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    return catalogue(f"sqlite:///{tmp_path_factory.mktemp('catalogue')}/taskward.db")


def recorded() -> dict[str, str]:
    return {rule["record"]: rule["expr"] for rule in rules() if "record" in rule}


def test_the_committed_json_is_what_the_builder_builds() -> None:
    assert load_builder().main(["--check"]) == 0, "run: python dashboards/build.py"


def test_three_provisioned_dashboards_with_stable_uids_and_the_variables() -> None:
    found = dashboards()
    assert {name: d["uid"] for name, d in found.items()} == UIDS
    for name, dash in found.items():
        assert dash["schemaVersion"] == 41
        assert dash["editable"] is False
        variables = {v["name"]: v for v in dash["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"
        assert variables["datasource"]["query"] == "prometheus"
        assert variables["job"]["query"]["query"] == "label_values(taskward_build_info, job)"
        assert (
            variables["queue"]["query"]["query"]
            == 'label_values(taskward_jobs{job=~"$job"}, queue)'
        )
        assert variables["queue"]["multi"] and variables["queue"]["includeAll"]
        assert ("task" in variables) == (name == "taskward-tasks.json")
        assert any(link["url"].endswith("/jobs") for link in dash["links"])
        ids = [p["id"] for p in dash["panels"]]
        assert len(ids) == len(set(ids))
        for panel in dash["panels"]:
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel
    tasks = found["taskward-tasks.json"]["templating"]["list"]
    assert [v["query"]["query"] for v in tasks if v["name"] == "task"] == [
        'label_values(taskward_job_attempts_total{job=~"$job", queue=~"$queue"}, task)'
    ]


def test_panels_link_to_the_taskward_jobs_page_and_durations_carry_exemplars() -> None:
    panels = [p for d in dashboards().values() for p in d["panels"]]
    links = [link["url"] for p in panels for link in p["fieldConfig"]["defaults"]["links"]]
    assert links and all(
        url.startswith("${taskward_url}/jobs?queue=${__field.labels.queue}") for url in links
    )
    exemplars = [p["title"] for p in panels if any(t.get("exemplar") for t in p["targets"])]
    assert exemplars == ["Duration p50/p95/p99 (completed)"]


def test_provisioning_files() -> None:
    provider = yaml.safe_load((DASHBOARDS / "provisioning/dashboards/taskward.yaml").read_text())
    (only,) = provider["providers"]
    assert only["folder"] == "Taskward" and only["allowUiUpdates"] is False
    assert only["options"] == {
        "path": "/var/lib/grafana/dashboards/taskward", "foldersFromFilesStructure": False
    }  # fmt: skip
    sources = yaml.safe_load((DASHBOARDS / "provisioning/datasources/prometheus.yaml").read_text())
    (prom,) = sources["datasources"]
    assert prom["uid"] == "prometheus" and prom["type"] == "prometheus"
    assert prom["jsonData"]["exemplarTraceIdDestinations"] == [
        {"name": "trace_id", "datasourceUid": "tempo"}
    ]


def test_every_metric_and_label_used_exists_in_the_code(metrics: dict[str, set[str]]) -> None:
    """Dashboards and rules read only series the code exports, with labels it sets."""
    known = dict(metrics)
    for name, expr in recorded().items():  # a recording rule's series: its `by` labels
        known[name] = set(usage(expr).grouped) | TARGET_LABELS
    known["up"] = TARGET_LABELS
    known |= {name: labels | TARGET_LABELS for name, (labels, _) in PENDING.items()}
    exprs = [(f"{q.dashboard}: {q.panel}", q.expr) for q in panel_queries()]
    exprs += [(rule.get("alert") or rule["record"], rule["expr"]) for rule in rules()]
    exprs += [(f"{n}: variable", v["query"]["query"]) for n, d in dashboards().items()
              for v in d["templating"]["list"] if v["type"] == "query"]  # fmt: skip
    wrong = []
    for where, expr in exprs:
        used = usage(expr)
        for metric in used.metrics - set(known):
            wrong.append(f"{where}: no metric {metric}")
        for metric, label in used.matched:
            if metric in known and label not in known[metric]:
                wrong.append(f"{where}: {metric} has no label {label}")
        labels = set().union(*(known.get(m, set()) for m in used.metrics), {"le"})
        wrong += [f"{where}: groups by unknown label {g}" for g in used.grouped - labels]
    assert not wrong, "\n".join(wrong)


def test_every_metric_of_the_code_is_on_a_dashboard(metrics: dict[str, set[str]]) -> None:
    shown = set().union(*(usage(q.expr).metrics for q in panel_queries()))
    for name in shown & set(recorded()):
        shown |= usage(recorded()[name]).metrics
    families = {re.sub(r"_(bucket|sum|count)$", "", m) for m in shown}
    missing = {m for m in metrics if m not in shown and re.sub(r"_(bucket|sum|count)$", "", m)
               not in families}  # fmt: skip
    assert not missing, f"on no dashboard: {sorted(missing)}"


def test_pending_metrics_are_still_missing_from_the_code(metrics: dict[str, set[str]]) -> None:
    """When the issue that adds one lands, drop it from PENDING so it is checked."""
    assert not set(PENDING) & set(metrics), PENDING


def test_every_panel_query_parses_in_promtool(tmp_path: Path) -> None:
    promtool = binary("promtool", "apt-get install prometheus")
    group = [{"record": f"panel:check:{i}", "expr": substituted(q.expr)}
             for i, q in enumerate(panel_queries())]  # fmt: skip
    path = tmp_path / "panels.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": group}]}))
    result = run(promtool, "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


PANEL_TYPES = {
    "timeseries": "timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen",
    "stat": "stat/panelcfg/x/StatPanelCfg_types.gen",
    "table": "table/panelcfg/x/TablePanelCfg_types.gen",
    "heatmap": "heatmap/panelcfg/x/HeatmapPanelCfg_types.gen",
}


def test_dashboards_type_check_against_grafana_schema(tmp_path: Path) -> None:
    """Each dashboard as a ``Dashboard`` literal (excess properties are errors), and each
    panel's options and custom field config as its panel plugin's types."""
    node = DASHBOARDS / "schema-check" / "node_modules"
    tsc = node / "typescript" / "bin" / "tsc"
    if not tsc.exists() or not (node / "@grafana" / "schema").exists():
        unavailable("npm packages for tsc missing: .ci/install runs npm install in "
                    "dashboards/schema-check")  # fmt: skip
    binary("node", "apt-get install nodejs")
    base = "@grafana/schema/dist/types/raw/composable"
    lines = [
        "import type { Dashboard } from '@grafana/schema';",
        "// JSON holds an enum's value, never the enum: read string enums as their values.",
        "type Json<T> = T extends string ? `${T}` : T extends number | boolean | null | undefined"
        " ? T : T extends Array<infer U> ? Array<Json<U>> : { [K in keyof T]: Json<T[K]> };",
        "// Panel options and field config: Grafana fills in what a dashboard leaves out.",
        "type Loose<T> = T extends string ? `${T}` : T extends number | boolean | null | undefined"
        " ? T : T extends Array<infer U> ? Array<Loose<U>> : { [K in keyof T]?: Loose<T[K]> };",
    ]
    for kind, path in PANEL_TYPES.items():
        alias = kind.capitalize()
        fields = ", FieldConfig as " + alias + "Field" if kind != "stat" else ""
        lines.append(f"import type {{ Options as {alias}Options{fields} }} from '{base}/{path}';")
    for n, (name, dash) in enumerate(dashboards().items()):
        lines.append(f"// {name}\nexport const d{n}: Json<Dashboard> = {json.dumps(dash)};")
        for panel in dash["panels"]:
            alias = panel["type"].capitalize()
            assert panel["type"] in PANEL_TYPES, panel["type"]
            var = f"d{n}p{panel['id']}"
            lines.append(f"export const {var}o: Loose<{alias}Options> = "
                         f"{json.dumps(panel['options'])};")  # fmt: skip
            custom = panel["fieldConfig"]["defaults"].get("custom")
            if custom is not None and panel["type"] != "stat":
                lines.append(f"export const {var}c: Loose<{alias}Field> = {json.dumps(custom)};")
    (tmp_path / "dashboards.ts").write_text("\n".join(lines) + "\n")
    (tmp_path / "tsconfig.json").write_text(json.dumps({
        "compilerOptions": {"strict": True, "noEmit": True, "moduleResolution": "node",
                            "module": "commonjs", "target": "es2020", "skipLibCheck": True,
                            "typeRoots": [], "baseUrl": ".", "paths": {"*": [f"{node}/*"]}},
        "files": ["dashboards.ts"],
    }))  # fmt: skip
    result = run("node", str(tsc), "-p", str(tmp_path / "tsconfig.json"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
