"""Build Taskward's three Grafana dashboards (OBSERVABILITY.md (d)) as provisioned classic JSON.

``python dashboards/build.py`` rewrites ``dashboards/*.json``; ``--check`` exits 1 if
they are not what this file builds (the test suite runs it). Plain Python on
purpose: every panel is one line of PromQL a reviewer can read next to the spec,
the output is exactly the JSON Grafana provisions, and ``tsc`` checks it against
``@grafana/schema`` in the tests, which is the type safety a dashboard SDK would add.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SCHEMA_VERSION = 41
DS = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'job=~"$job", queue=~"$queue"'
TSEL = f'{SEL}, task=~"$task"'
RI = "[$__rate_interval]"
Json = dict[str, Any]


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = "__auto"
    exemplar: bool = False


@dataclass(frozen=True)
class Panel:
    """One panel: ``kind`` is a Grafana panel type, ``width`` out of 24 columns."""

    title: str
    kind: str
    queries: tuple[Query, ...]
    unit: str = "short"
    width: int = 12
    height: int = 8
    description: str = ""
    #: Per-series link to the Taskward web UI: the jobs of the series' queue.
    queue_link: str | None = None
    stacked: bool = False
    bars: bool = False
    minmax: tuple[float, float] | None = None
    options: Json = field(default_factory=dict)


def q(expr: str, legend: str = "__auto", *, exemplar: bool = False) -> tuple[Query, ...]:
    return (Query(expr, legend, exemplar),)


def ratio(by: str, sel: str, metric: str = "taskward_job_attempts_total") -> str:
    failed = f'{metric}{{{sel}, outcome=~"retryable|discarded"}}'
    return f"sum by ({by}) (rate({failed}{RI})) / sum by ({by}) (rate({metric}{{{sel}}}{RI}))"


def quantile(p: float, by: str, series: str) -> str:
    return f"histogram_quantile({p}, sum by ({by}) ({series}))"


# Overview reads the recording rules of alerts/taskward.rules.yml where it can:
# one series per (job, queue, outcome) instead of one per task as well.
ATTEMPTS_5M = "job_queue_outcome:taskward_job_attempts:rate5m"
WAIT_5M = "job_queue_le:taskward_job_queue_wait_seconds_bucket:rate5m"

OVERVIEW = (
    Panel("Live workers", "stat", q('sum(max by (job) (taskward_workers{job=~"$job", state="alive"}))'), width=3, height=4),
    Panel("Executing", "stat", q(f'sum(max by (queue) (taskward_jobs{{{SEL}, state="executing"}}))'), width=3, height=4),
    Panel("Available (backlog)", "stat", q(f'sum(max by (queue) (taskward_jobs{{{SEL}, state="available"}}))'), width=4, height=4),
    Panel("Oldest waiting job", "stat", q(f"max(taskward_queue_oldest_job_age_seconds{{{SEL}}})"), unit="s", width=4, height=4),
    Panel("Throughput", "stat", q(f'sum({ATTEMPTS_5M}{{{SEL}, outcome="completed"}})'), unit="ops", width=3, height=4, description="Completed attempts per second (5m rate)."),
    Panel("Failure ratio (1h)", "stat", q(f'sum(increase(taskward_job_attempts_total{{{SEL}, outcome=~"retryable|discarded"}}[1h])) / sum(increase(taskward_job_attempts_total{{{SEL}}}[1h]))'), unit="percentunit", width=4, height=4),
    Panel("Paused queues", "stat", q(f"sum(max by (queue) (taskward_queue_paused{{{SEL}}}))"), width=3, height=4, description="Paused queues explain zero throughput."),
    Panel("Jobs by state", "timeseries", q(f'max by (queue, state) (taskward_jobs{{{SEL}, state=~"available|scheduled|retryable|executing"}})', "{{queue}} {{state}}"), stacked=True, queue_link="state=${__field.labels.state}"),
    Panel("Oldest job age by queue", "timeseries", q(f"max by (queue) (taskward_queue_oldest_job_age_seconds{{{SEL}}})", "{{queue}}"), unit="s", queue_link="state=available"),
    Panel("Attempts by outcome", "timeseries", q(f"sum by (outcome) ({ATTEMPTS_5M}{{{SEL}}})", "{{outcome}}"), unit="ops", stacked=True),
    Panel("Enqueued vs completed", "timeseries", (
        Query(f"sum by (queue) (rate(taskward_jobs_inserted_total{{{SEL}}}{RI}))", "enqueued {{queue}}"),
        Query(f'sum by (queue) ({ATTEMPTS_5M}{{{SEL}, outcome="completed"}})', "completed {{queue}}"),
    ), unit="ops", queue_link=""),
    Panel("Failure ratio by queue", "timeseries", q(f'sum by (queue) ({ATTEMPTS_5M}{{{SEL}, outcome=~"retryable|discarded"}}) / sum by (queue) ({ATTEMPTS_5M}{{{SEL}}})', "{{queue}}"), unit="percentunit", queue_link="state=retryable"),
    Panel("Queue wait p95", "timeseries", q(quantile(0.95, "queue, le", f"{WAIT_5M}{{{SEL}}}"), "{{queue}}"), unit="s", queue_link="state=available"),
    Panel("Duration p50/p95/p99 (completed)", "timeseries", tuple(
        Query(quantile(p, "le", f'rate(taskward_job_duration_seconds_bucket{{{SEL}, outcome="completed"}}{RI})'), f"p{round(p * 100)}", exemplar=True)
        for p in (0.5, 0.95, 0.99)
    ), unit="s", description="Exemplars link each point to the trace of an attempt."),
    Panel("Worker utilisation", "timeseries", q(f"sum by (queue) (taskward_worker_jobs_executing{{{SEL}}}) / sum by (queue) (taskward_worker_concurrency_limit{{{SEL}}})", "{{queue}}"), unit="percentunit", minmax=(0, 1), queue_link="state=executing"),
    Panel("Rescued jobs", "timeseries", q(f"sum by (queue) (increase(taskward_jobs_rescued_total{{{SEL}}}{RI}))", "{{queue}}"), bars=True, queue_link=""),
)  # fmt: skip

TASKS = (
    Panel("Attempt rate by task", "timeseries", q(f"sum by (task) (rate(taskward_job_attempts_total{{{TSEL}}}{RI}))", "{{task}}"), unit="ops", width=24),
    Panel("Top errors", "table", q(f"topk(10, sum by (task, error_type) (increase(taskward_job_errors_total{{{TSEL}}}[$__range])))"), description="Failed attempts over the dashboard's time range."),
    Panel("Discarded jobs", "table", q(f'sum by (task) (increase(taskward_job_attempts_total{{{TSEL}, outcome="discarded"}}[$__range]))'), description="Jobs that used up their attempts over the time range."),
    Panel("Duration heatmap", "heatmap", q(f"sum by (le) (increase(taskward_job_duration_seconds_bucket{{{TSEL}}}{RI}))", "{{le}}"), unit="s"),
    Panel("Mean duration by task", "timeseries", q(f"sum by (task) (rate(taskward_job_duration_seconds_sum{{{TSEL}}}{RI})) / sum by (task) (rate(taskward_job_duration_seconds_count{{{TSEL}}}{RI}))", "{{task}}"), unit="s"),
    Panel("Queue wait p95 by task", "timeseries", q(quantile(0.95, "task, le", f"rate(taskward_job_queue_wait_seconds_bucket{{{TSEL}}}{RI})"), "{{task}}"), unit="s"),
    Panel("Failure ratio by task", "timeseries", q(ratio("task", TSEL), "{{task}}"), unit="percentunit"),
    Panel("Rate-limited claims by task", "timeseries", q(f"sum by (task) (rate(taskward_job_rate_limited_total{{{TSEL}}}{RI}))", "{{task}}"), unit="ops", width=24, description="Jobs held back by rate or concurrency limits (they wait, never fail)."),
)  # fmt: skip

WORKERS = (
    Panel("Workers alive / stale", "timeseries", q('max by (state) (taskward_workers{job=~"$job"})', "{{state}}")),
    Panel("Longest executing job", "timeseries", q(f"max by (queue) (taskward_queue_oldest_executing_age_seconds{{{SEL}}})", "{{queue}}"), unit="s", queue_link="state=executing"),
    Panel("Claim latency p95", "timeseries", q(quantile(0.95, "queue, le", f"rate(taskward_claim_duration_seconds_bucket{{{SEL}}}{RI})"), "{{queue}}"), unit="s"),
    Panel("Claims by result", "timeseries", q(f"sum by (queue, result) (rate(taskward_claims_total{{{SEL}}}{RI}))", "{{queue}} {{result}}"), unit="ops"),
    Panel("Schedules: time since last success", "table", q('time() - max by (schedule) (taskward_schedule_last_success_timestamp_seconds{job=~"$job"})'), unit="s"),
    Panel("Schedules: next firing in", "table", q('max by (schedule) (taskward_schedule_next_fire_timestamp_seconds{job=~"$job"}) - time()'), unit="s", description="Negative: overdue (see TaskwardScheduleMissed)."),
    Panel("Maintenance: time since last success", "table", q('time() - max by (kind) (taskward_maintenance_last_success_timestamp_seconds{job=~"$job"})'), unit="s"),
    Panel("Maintenance runs", "timeseries", q('sum by (kind, outcome) (increase(taskward_maintenance_runs_total{job=~"$job"}[$__rate_interval]))', "{{kind}} {{outcome}}")),
    Panel("Retention: pruned", "timeseries", q('sum by (state) (increase(taskward_pruned_total{job=~"$job"}[$__rate_interval]))', "{{state}}"), description="Finished jobs deleted by retention; outbox events below."),
    Panel("Retention: events pruned", "timeseries", q('sum(increase(taskward_events_pruned_total{job=~"$job"}[$__rate_interval]))', "events")),
    Panel("Leader", "table", q('max by (instance) (taskward_leader{job=~"$job"})'), description="1 on the process that holds the leader lease."),
    Panel("Notifications", "timeseries", q('sum by (channel, outcome) (increase(taskward_notifications_total{job=~"$job"}[$__rate_interval]))', "{{channel}} {{outcome}}")),
    Panel("Execution log records", "timeseries", q(f"sum by (queue, outcome) (rate(taskward_execution_log_records_total{{{SEL}}}{RI}))", "{{queue}} {{outcome}}"), unit="ops", description="dropped: a per-attempt cap was reached."),
    Panel("Collector duration", "timeseries", q('max by (instance) (taskward_collector_duration_seconds{job=~"$job"})', "{{instance}}"), unit="s"),
    Panel("Collector errors", "timeseries", q('sum by (instance) (increase(taskward_collector_errors_total{job=~"$job"}[$__rate_interval]))', "{{instance}}"), bars=True),
    Panel("Versions", "table", q('count by (version) (taskward_build_info{job=~"$job"})'), width=24, height=5),
)  # fmt: skip


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    file: str
    panels: tuple[Panel, ...]
    task_variable: bool = False


DASHBOARDS = (
    Dashboard("taskward-overview", "Taskward / Overview", "taskward-overview.json", OVERVIEW),
    Dashboard("taskward-tasks", "Taskward / Tasks", "taskward-tasks.json", TASKS, True),
    Dashboard(
        "taskward-workers", "Taskward / Workers & Platform", "taskward-workers.json", WORKERS
    ),
)


def _query_variable(name: str, label: str, query: str, *, multi: bool) -> Json:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DS,
        "query": {"query": query, "refId": f"{name}-variable"},
        "refresh": 2,
        "sort": 1,
        "multi": multi,
        "includeAll": True,
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [],
        "hide": 0,
        "skipUrlSync": False,
    }


def _variables(dash: Dashboard) -> list[Json]:
    out: list[Json] = [
        {
            "name": "datasource",
            "label": "Data source",
            "type": "datasource",
            "query": "prometheus",
            "current": {"selected": False, "text": "Prometheus", "value": "prometheus"},
            "options": [],
            "refresh": 1,
            "regex": "",
            "hide": 0,
            "skipUrlSync": False,
        },
        _query_variable("job", "Job", "label_values(taskward_build_info, job)", multi=True),
        _query_variable(
            "queue", "Queue", 'label_values(taskward_jobs{job=~"$job"}, queue)', multi=True
        ),
    ]
    if dash.task_variable:
        out.append(
            _query_variable(
                "task",
                "Task",
                'label_values(taskward_job_attempts_total{job=~"$job", queue=~"$queue"}, task)',
                multi=True,
            )
        )
    out.append(
        {
            "name": "taskward_url",
            "label": "Taskward web UI",
            "type": "textbox",
            "query": "http://localhost:8000",
            "current": {"text": "http://localhost:8000", "value": "http://localhost:8000"},
            "options": [],
            "hide": 0,
            "skipUrlSync": False,
        }
    )
    return out


def _panel(panel: Panel, pid: int, x: int, y: int) -> Json:
    targets = []
    table = panel.kind == "table"
    for i, query in enumerate(panel.queries):
        target: Json = {
            "refId": chr(ord("A") + i),
            "datasource": DS,
            "expr": query.expr,
            "legendFormat": query.legend,
            "range": not table,
            "instant": table,
        }
        if table:
            target["format"] = "table"
        elif panel.kind == "heatmap":
            target["format"] = "heatmap"
        if query.exemplar:
            target["exemplar"] = True
        targets.append(target)
    defaults: Json = {"unit": panel.unit, "links": []}
    if panel.minmax:
        defaults["min"], defaults["max"] = panel.minmax
    if panel.queue_link is not None:
        extra = f"&{panel.queue_link}" if panel.queue_link else ""
        defaults["links"].append(
            {
                "title": "Jobs of ${__field.labels.queue} in Taskward",
                "url": "${taskward_url}/jobs?queue=${__field.labels.queue}" + extra,
                "targetBlank": True,
            }
        )
    options: Json = {}
    if panel.kind == "timeseries":
        defaults["custom"] = {
            "drawStyle": "bars" if panel.bars else "line",
            "fillOpacity": 60 if panel.stacked or panel.bars else 10,
            "lineWidth": 1,
            "showPoints": "never",
            "spanNulls": False,
            "stacking": {"mode": "normal" if panel.stacked else "none", "group": "A"},
        }
        options = {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        }
    elif panel.kind == "stat":
        options = {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "value",
            "graphMode": "area",
            "textMode": "auto",
            "justifyMode": "auto",
            "orientation": "auto",
        }
    elif panel.kind == "table":
        options = {"showHeader": True, "cellHeight": "sm"}
    elif panel.kind == "heatmap":
        options = {
            "calculate": False,
            "yAxis": {"unit": panel.unit, "axisPlacement": "left"},
            "cellGap": 1,
            "color": {"mode": "scheme", "scheme": "Oranges", "steps": 64},
            "legend": {"show": True},
            "tooltip": {"mode": "single", "yHistogram": False},
        }
    out: Json = {
        "id": pid,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DS,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "targets": targets,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options | panel.options,
    }
    if table:
        out["transformations"] = [
            {"id": "organize", "options": {"excludeByName": {"Time": True}, "renameByName": {}}}
        ]
    return out


def _layout(panels: tuple[Panel, ...]) -> list[Json]:
    """Left to right, top to bottom, a new row when the next panel does not fit."""
    out, x, y, row_height = [], 0, 0, 0
    for pid, panel in enumerate(panels, start=1):
        if x + panel.width > 24:
            x, y, row_height = 0, y + row_height, 0
        out.append(_panel(panel, pid, x, y))
        x += panel.width
        row_height = max(row_height, panel.height)
    return out


def build(dash: Dashboard) -> Json:
    """The dashboard's JSON model, as Grafana provisions it."""
    return {
        "uid": dash.uid,
        "title": dash.title,
        "description": "Taskward job queue: see OBSERVABILITY.md (d).",
        "tags": ["taskward"],
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": False,
        "graphTooltip": 1,
        "timezone": "browser",
        "refresh": "30s",
        "time": {"from": "now-3h", "to": "now"},
        "timepicker": {},
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "links": [
            {
                "title": "Taskward web UI",
                "type": "link",
                "url": "${taskward_url}/jobs",
                "icon": "external link",
                "tooltip": "Jobs, queues and workers in Taskward's own dashboard",
                "targetBlank": True,
                "asDropdown": False,
                "includeVars": False,
                "keepTime": False,
                "tags": [],
            },
            {
                "title": "Taskward dashboards",
                "type": "dashboards",
                "tags": ["taskward"],
                "asDropdown": True,
                "includeVars": True,
                "keepTime": True,
                "icon": "external link",
                "targetBlank": False,
                "tooltip": "",
                "url": "",
            },
        ],
        "templating": {"list": _variables(dash)},
        "panels": _layout(dash.panels),
    }


def render(dash: Dashboard) -> str:
    return json.dumps(build(dash), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    stale = []
    for dash in DASHBOARDS:
        path = HERE / dash.file
        text = render(dash)
        if "--check" in argv:
            if not path.exists() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.write_text(text)
    if stale:
        print(f"out of date: {', '.join(stale)}; run: python dashboards/build.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
