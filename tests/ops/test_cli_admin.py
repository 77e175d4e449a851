"""The operator's verbs as subprocesses: bulk actions, queues, schedules, workers, start-up."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

from taskward.core import Constant, JobState, Taskward, current_attempt
from taskward.core.instrumentation import instrument
from taskward.core.testing import drain
from tests.ops.conftest import clean_env, one_line_error, run_cli

SCHEDULED_APP = """
from taskward.core import Taskward

app = Taskward()


@app.task(name="reports.nightly")
def nightly(kind: str) -> str:
    return kind


app.schedules.add("nightly", "30 2 * * *", nightly.spec("full"), timezone="Europe/Paris")
"""


def _json(*args: str, **env: str) -> Any:
    result = run_cli(*args, "--output", "json", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _failures(url: str) -> dict[str, list[str]]:
    """Discarded jobs: five card declines and two SMTP failures; and one completed job."""
    app = Taskward(url)

    @app.task(name="shop.charge", max_attempts=1)
    def charge(order: int) -> None:
        raise ValueError(f"card declined for order {order}")

    @app.task(name="mail.send", queue="mail", max_attempts=1)
    def send(to: str) -> None:
        raise ConnectionError(f"smtp down for {to}")

    @app.task(name="shop.ok")
    def ok() -> None: ...

    ids = {
        "charge": [str(charge.enqueue(n).id) for n in range(5)],
        "mail": [str(send.enqueue(f"u{n}@example.com").id) for n in range(2)],
        "ok": [str(ok.enqueue().id)],
    }
    drain(app)
    app.close()
    return ids


def test_bulk_retry_by_filter_changes_exactly_the_matching_rows(database_url: str) -> None:
    ids = _failures(database_url)
    db = ["-d", database_url]

    refused = run_cli("jobs", "retry", "--state", "discarded", "--error", "card declined", *db)
    assert refused.returncode == 2  # a pipe cannot answer the question: --yes is required
    assert "retry 5 jobs" in one_line_error(refused)
    assert "--yes" in refused.stderr

    done = _json(
        "jobs", "retry", "--state", "discarded", "--error", "card declined", "--yes",
        "--actor", "ops:ada", *db,
    )  # fmt: skip
    assert done == {"action": "retry", "matched": 5, "changed": 5, "stopping": 0}

    states = {j["id"]: j["state"] for j in _json("jobs", "list", *db)}
    assert {states[i] for i in ids["charge"]} == {"available"}
    assert {states[i] for i in ids["mail"]} == {"discarded"}
    assert {states[i] for i in ids["ok"]} == {"completed"}
    events = _json("jobs", "show", ids["charge"][0], *db)["events"]
    assert events[-1]["name"] == "taskward.job.staged"
    assert events[-1]["data"] == {"actor": "ops:ada"}

    nothing = run_cli("jobs", "retry", "--queue", "nowhere", *db)
    assert nothing.returncode == 0, nothing.stderr
    assert "no job to retry matches queues=nowhere" in nothing.stderr

    everything = run_cli("jobs", "delete", *db)  # no ids, no filter: refused
    assert everything.returncode == 2
    assert "give job ids or a filter" in one_line_error(everything)


def test_cancel_and_delete_one_job_by_the_end_of_its_id(database_url: str) -> None:
    app = Taskward(database_url, allow_unregistered=True)
    waiting = app.enqueue("shop.later", [1], in_=3600)
    app.close()
    db = ["-d", database_url]

    cancelled = run_cli("jobs", "cancel", f"…{str(waiting.id)[-8:]}", *db)
    assert cancelled.returncode == 0, cancelled.stderr
    assert "cancelled 1 of 1 jobs" in cancelled.stdout
    assert _json("jobs", "show", str(waiting.id), *db)["state"] == JobState.CANCELLED

    again = run_cli("jobs", "cancel", str(waiting.id), *db)
    assert "nothing to cancel" in again.stdout

    assert _json("jobs", "delete", str(waiting.id), *db)["changed"] == 1
    gone = run_cli("jobs", "show", str(waiting.id), *db)
    assert gone.returncode == 1
    assert "no job with id" in one_line_error(gone)


def test_queues_pause_resume_and_list(database_url: str) -> None:
    _failures(database_url)
    db = ["-d", database_url]
    assert run_cli("queues", "pause", "mail", *db).stdout.strip() == "queue mail paused"

    queues = {q["name"]: q for q in _json("queues", "list", *db)}
    assert queues["mail"]["paused"] is True
    assert queues["mail"]["counts"] == {"discarded": 2}
    assert queues["default"]["counts"] == {"discarded": 5, "completed": 1}
    assert queues["default"]["completed"] == 1  # finished within the window

    run_cli("queues", "resume", "mail", *db)
    assert {q["name"]: q["paused"] for q in _json("queues", "list", *db)}["mail"] is False

    table = run_cli("queues", "list", *db, COLUMNS="80")
    assert max(len(line.rstrip()) for line in table.stdout.splitlines()) <= 80
    assert "mail" in table.stdout and "default" in table.stdout


def test_workers_list(database_url: str) -> None:
    app = Taskward(database_url)
    now = app.clock.now()
    with app.connect() as conn:
        app.store.register_worker(conn, "host-a:42:beef", "host-a", 42, {"mail": 3}, now)
    app.close()

    [worker] = _json("workers", "list", "-d", database_url)
    assert (worker["host"], worker["pid"], worker["queues"], worker["running"]) == (
        "host-a",
        42,
        {"mail": 3},
        0,
    )


def test_schedules_list_pause_resume_run(database_url: str, tmp_path: Path) -> None:
    (tmp_path / "reports.py").write_text(SCHEDULED_APP)
    env = {"TASKWARD_DATABASE_URL": database_url}
    run = run_cli("schedules", "run", "nightly", "--app", "reports:app", cwd=tmp_path, **env)
    assert run.returncode == 0, run.stderr
    job = _json("jobs", "show", run.stdout.strip(), **env)
    assert (job["task"], job["args"], job["meta"]["schedule"]) == (
        "reports.nightly",
        ["full"],
        "nightly",
    )

    [info] = _json("schedules", "list", **env)
    assert (info["name"], info["cron"], info["timezone"], info["paused"]) == (
        "nightly",
        "30 2 * * *",
        "Europe/Paris",
        False,
    )
    assert info["next_fire_at"] is not None
    assert "paused" in run_cli("schedules", "pause", "nightly", **env).stdout
    assert _json("schedules", "list", **env)[0]["paused"] is True
    assert "resumed; next run" in run_cli("schedules", "resume", "nightly", **env).stdout
    missing = run_cli("schedules", "pause", "weekly", **env)
    assert "no schedule named 'weekly'" in one_line_error(missing)


def test_enqueue_from_the_cli_is_audited(sqlite_database: str, shop_dir: Path) -> None:
    job = _json(
        "enqueue", "shop.add", "--args", "[1, 2]", "--tag", "vip", "--app", "shop:app",
        "--actor", "ops:grace", "-d", sqlite_database, cwd=str(shop_dir),
    )  # fmt: skip
    assert (job["tags"], job["meta"]["enqueued_by"]) == (["vip"], "ops:grace")
    tagged = _json("jobs", "list", "--tag", "vip", "-d", sqlite_database)
    assert [j["id"] for j in tagged] == [job["id"]]


def test_version_completion_and_a_light_help() -> None:
    version = run_cli("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("taskward 0.")
    completion = run_cli("--show-completion", "bash")
    assert "_taskward_completion" in completion.stdout

    # --help builds the whole command tree without the database stack or rich.
    probe = (
        "import sys\n"
        "from taskward.ops.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('sqlalchemy', 'rich', 'taskward.core') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], env=clean_env(), capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines()[-1] == "[]"


def test_jobs_logs_attempt_by_attempt(database_url: str) -> None:
    app = Taskward(database_url)
    signals = instrument(app, tracing=False)
    log = logging.getLogger("tests.ops.charge")
    log.setLevel(logging.INFO)

    @app.task(name="shop.charge", max_attempts=2, backoff=Constant(0))
    def charge(order: int) -> None:
        log.info("charging order %d", order)
        if current_attempt().job.attempt == 1:
            log.warning("gateway slow, giving up this attempt")
            raise TimeoutError("gateway")

    job = charge.enqueue(42)
    drain(app)
    drain(app)
    signals.flush()
    signals.close()
    app.close()
    log.setLevel(logging.NOTSET)

    entries = _json("jobs", "logs", str(job.id), "-d", database_url)
    assert [(e["attempt"], e["message"]) for e in entries][:3] == [
        (1, "charging order 42"),
        (1, "gateway slow, giving up this attempt"),
        (1, entries[2]["message"]),
    ]
    assert (2, "charging order 42") in [(e["attempt"], e["message"]) for e in entries]
    second = _json("jobs", "logs", str(job.id), "--attempt", "2", "-d", database_url)
    assert {e["attempt"] for e in second} == {2}
    table = run_cli("jobs", "logs", str(job.id), "-d", database_url, COLUMNS="80")
    assert "WARNING" in table.stdout and "gateway slow" in table.stdout
