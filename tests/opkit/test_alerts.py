"""The Prometheus rules and the Alertmanager config: valid for the real tools, every alert
of OBSERVABILITY.md (e) present, unit-tested firing and quiet, with its runbook."""

from __future__ import annotations

import re
from collections import defaultdict

import yaml

from tests.opkit.support import ALERTS, ROOT, RULES, binary, dashboards, rules, run

#: OBSERVABILITY.md (e): alert -> (for, severity).
SPEC = {
    "TaskwardNoLiveWorkers": ("5m", "critical"),
    "TaskwardStaleWorkers": ("10m", "warning"),
    "TaskwardQueueLatencyHigh": ("5m", "warning"),
    "TaskwardQueueLatencyCritical": ("5m", "critical"),
    "TaskwardQueueBacklogHigh": ("20m", "warning"),
    "TaskwardQueueStalled": ("10m", "critical"),
    "TaskwardHighFailureRatio": ("5m", "warning"),
    "TaskwardJobsDiscarded": ("0m", "warning"),
    "TaskwardJobsRescued": ("0m", "warning"),
    "TaskwardJobStuckExecuting": ("5m", "warning"),
    "TaskwardScheduleMissed": ("5m", "warning"),
    "TaskwardMaintenanceOverdue": ("0m", "warning"),
    "TaskwardNotificationsFailing": ("0m", "warning"),
    "TaskwardMetricsCollectorFailing": ("0m", "warning"),
    "TaskwardTargetDown": ("5m", "critical"),
}
RUNBOOK = "https://github.com/taskward/taskward/blob/main/docs/runbooks/"


def alerts() -> dict[str, dict[str, object]]:
    return {rule["alert"]: rule for rule in rules() if "alert" in rule}


def test_promtool_checks_the_rules() -> None:
    result = run(binary("promtool", "apt-get install prometheus"), "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 18 rules found" in result.stdout


def test_promtool_unit_tests_pass() -> None:
    promtool = binary("promtool", "apt-get install prometheus")
    result = run(promtool, "test", "rules", str(ALERTS / "taskward.rules.test.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_of_the_contract_with_its_duration_and_severity() -> None:
    found = {name: (rule.get("for", "0m"), rule["labels"]["severity"])  # type: ignore[index]
             for name, rule in alerts().items()}  # fmt: skip
    assert found == SPEC


def test_every_alert_has_the_annotations_a_runbook_and_a_real_dashboard() -> None:
    uids = {d["uid"] for d in dashboards().values()}
    for name, rule in alerts().items():
        notes = rule["annotations"]
        assert isinstance(notes, dict)
        assert set(notes) == {"summary", "description", "dashboard_url", "runbook_url"}, name
        assert notes["runbook_url"] == f"{RUNBOOK}{name}.md"
        runbook = ROOT / "docs" / "runbooks" / f"{name}.md"
        assert runbook.read_text().startswith(f"# {name}\n"), runbook
        uid = re.match(r"http://localhost:3000/d/([a-z-]+)/", str(notes["dashboard_url"]))
        assert uid and uid.group(1) in uids, notes["dashboard_url"]
    index = (ROOT / "docs" / "runbooks" / "README.md").read_text()
    assert all(f"[{name}]({name}.md)" in index for name in SPEC)


def test_every_alert_is_unit_tested_firing_and_quiet() -> None:
    tests = yaml.safe_load((ALERTS / "taskward.rules.test.yml").read_text())["tests"]
    seen: dict[str, set[bool]] = defaultdict(set)
    for case in tests:
        for check in case.get("alert_rule_test", []):
            seen[check["alertname"]].add(bool(check["exp_alerts"]))
    assert {name: sorted(outcomes) for name, outcomes in seen.items()} == {
        name: [False, True] for name in SPEC
    }


def test_alertmanager_config_is_valid_and_routes_by_severity() -> None:
    amtool = binary("amtool", "apt-get install prometheus-alertmanager")
    path = ALERTS / "alertmanager.yml"
    result = run(amtool, "check-config", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load(path.read_text())
    routes = {r["matchers"][0]: r["receiver"] for r in config["route"]["routes"]}
    assert routes == {
        'severity="critical"': "email-critical",
        'severity="warning"': "slack-warnings",
    }
    receivers = {r["name"]: r for r in config["receivers"]}
    assert "email_configs" in receivers["email-critical"]
    assert "slack_configs" in receivers["slack-warnings"]
    inhibit = config["inhibit_rules"]
    assert inhibit[0]["equal"] == ["job", "queue"]
    assert inhibit[1]["source_matchers"] == ['alertname="TaskwardNoLiveWorkers"']
