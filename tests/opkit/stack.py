"""The compose stack's processes, run natively on loopback from the files compose mounts.

Each shipped file is loaded and changed only where the stack test must: addresses and
ports (loopback instead of service names), scrape and evaluation intervals (1 s), the
Alertmanager grouping waits (1 s), the Slack URL file, and the ``for:`` of the one alert
the test makes fire (see ``rules_copy``).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml
from aiosmtpd.controller import Controller

from tests.opkit.support import ALERTS, COMPOSE, RULES
from tests.services import free_port


def poll(predicate: Callable[[], Any], what: str, timeout: float = 90.0) -> Any:
    """``predicate()`` every 0.2 s until it is truthy; its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def get_json(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return json.load(reply)
    except OSError:
        return None


class Daemon:
    """A server binary on a free loopback port, stopped by its own pid."""

    def __init__(self, argv: list[str], port: int, ready: str, log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        poll(lambda: self._ready(ready), f"{argv[0]} to be ready", timeout=30)

    def _ready(self, path: str) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(self.log.read_text()[-3000:])
        try:
            with urllib.request.urlopen(self.url + path, timeout=1) as reply:
                return bool(reply.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Prometheus(Daemon):
    def query(self, promql: str) -> list[dict[str, Any]]:
        body = get_json(f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}")
        assert body is not None and body["status"] == "success", (promql, body)
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def query_range(self, promql: str, start: float, end: float, step: float) -> Any:
        params = {"query": promql, "start": start, "end": end, "step": step}
        body = get_json(f"{self.url}/api/v1/query_range?{urllib.parse.urlencode(params)}")
        assert body is not None and body["status"] == "success", (promql, body)
        return body["data"]["result"]


def rules_copy(workdir: Path, fast: set[str]) -> Path:
    """The shipped rules with ``for: 0s`` on the alerts in ``fast``: the test cannot wait
    their real durations (the promtool unit tests check those)."""
    doc = yaml.safe_load(RULES.read_text())
    for group in doc["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") in fast:
                assert "for" in rule, rule["alert"]
                rule["for"] = "0s"
    path = workdir / "taskward.rules.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def start_prometheus(workdir: Path, target: int, alertmanager: str, rules: Path) -> Prometheus:
    config = yaml.safe_load((COMPOSE / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(rules)]
    config["alerting"]["alertmanagers"][0]["static_configs"] = [
        {"targets": [alertmanager.removeprefix("http://")]}
    ]
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "taskward"
    job["static_configs"] = [{"targets": [f"127.0.0.1:{target}"]}]
    path = workdir / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    argv = [
        "prometheus",
        f"--config.file={path}",
        f"--storage.tsdb.path={workdir / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--enable-feature=exemplar-storage",
    ]
    return Prometheus(argv, port, "/-/ready", workdir / "prometheus.log")


def start_alertmanager(workdir: Path, smtp_port: int, slack_url: str) -> Daemon:
    config = yaml.safe_load((ALERTS / "alertmanager.yml").read_text())
    config["global"]["smtp_smarthost"] = f"127.0.0.1:{smtp_port}"
    config["route"].update(group_wait="1s", group_interval="1s")
    (slack,) = next(r for r in config["receivers"] if r["name"] == "slack-warnings")[
        "slack_configs"
    ]
    secret = workdir / "slack_webhook_url"
    secret.write_text(slack_url)
    slack["api_url_file"] = str(secret)
    path = workdir / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    argv = ["prometheus-alertmanager", f"--config.file={path}",
            f"--storage.path={workdir / 'am'}", f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address="]  # fmt: skip
    return Daemon(argv, port, "/-/ready", workdir / "alertmanager.log")


class Inbox:
    """What loopback receivers got: Slack webhook POSTs (JSON) and emails."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.mails: list[Message] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        with self.lock:
            self.mails.append(message_from_bytes(envelope.content))
        return "250 OK"


def start_webhook(inbox: Inbox) -> tuple[ThreadingHTTPServer, str]:
    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with inbox.lock:
                inbox.posts.append(json.loads(body))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/services/slack"


def start_smtp(inbox: Inbox) -> Controller:
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="taskward-stack-"))
