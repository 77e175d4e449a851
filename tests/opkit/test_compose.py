"""The compose stack: valid for docker-compose, images pinned, and it mounts the very
files the rest of the kit ships and tests (no engine runs here: test_stack.py runs the
same processes natively)."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.opkit.support import COMPOSE, binary, run

SERVICES = {"postgres", "taskward", "prometheus", "alertmanager", "grafana", "s3", "mail"}


def config() -> dict[str, object]:
    """The file as docker-compose resolves it (relative paths made absolute)."""
    compose = binary("docker-compose", "apt-get install docker-compose")
    result = run(compose, "-f", str(COMPOSE / "compose.yaml"), "config")
    assert result.returncode == 0, result.stderr
    loaded: dict[str, object] = yaml.safe_load(result.stdout)
    return loaded


def test_docker_compose_accepts_the_file() -> None:
    compose = binary("docker-compose", "apt-get install docker-compose")
    result = run(compose, "-f", str(COMPOSE / "compose.yaml"), "config", "-q")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_service_with_images_pinned_by_tag() -> None:
    services = config()["services"]
    assert isinstance(services, dict)
    assert set(services) == SERVICES
    for name, service in services.items():
        image = service["image"]
        tag = image.rpartition(":")[2]
        assert ":" in image and tag not in ("", "latest"), (name, image)
    assert services["taskward"]["build"]["dockerfile"].endswith("compose/Dockerfile")


def test_it_mounts_the_shipped_rules_alertmanager_config_and_grafana_provisioning() -> None:
    services = config()["services"]
    assert isinstance(services, dict)
    mounts = {}
    for service in services.values():
        for volume in service.get("volumes", []):
            source, _, rest = str(volume).partition(":")
            if source.startswith("/"):
                mounts[rest.split(":")[0]] = source
    root = COMPOSE.parent
    assert mounts["/etc/prometheus/rules/taskward.rules.yml"] == str(
        root / "alerts" / "taskward.rules.yml"
    )
    assert mounts["/etc/alertmanager/alertmanager.yml"] == str(root / "alerts" / "alertmanager.yml")
    assert mounts["/etc/prometheus/prometheus.yml"] == str(COMPOSE / "prometheus.yml")
    for uid in ("taskward-overview", "taskward-tasks", "taskward-workers"):
        target = f"/var/lib/grafana/dashboards/taskward/{uid}.json"
        assert mounts[target] == str(root / "dashboards" / f"{uid}.json")
    for kind in ("dashboards", "datasources"):
        source = mounts[f"/etc/grafana/provisioning/{kind}"]
        assert source == str(root / "dashboards" / "provisioning" / kind)
    assert all(Path(source).exists() for source in mounts.values()), mounts
    prometheus = yaml.safe_load((COMPOSE / "prometheus.yml").read_text())
    assert prometheus["rule_files"] == ["/etc/prometheus/rules/taskward.rules.yml"]
    (targets,) = prometheus["alerting"]["alertmanagers"][0]["static_configs"]
    assert targets["targets"] == ["alertmanager:9093"]


def test_the_readme_one_liner_starts_this_file() -> None:
    """docs/examples/compose.sh (the README's command) names the file validated here."""
    script = (COMPOSE.parent / "docs" / "examples" / "compose.sh").read_text()
    (line,) = [s for s in script.splitlines() if s.startswith("docker compose")]
    argv = line.split()
    assert argv[2:4] == ["-f", "compose/compose.yaml"] and argv[4:] == ["up", "--build"]
    compose = binary("docker-compose", "apt-get install docker-compose")
    result = run(compose, *argv[2:4], "config", "-q", cwd=COMPOSE.parent)
    assert result.returncode == 0, result.stderr
