"""Applying a configuration to an app through its public API, all or nothing.

Every core object (limits, schedules) is built and checked first; only when
all of them are valid does anything touch the app, so a bad file never
half-applies.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from taskward.core import Taskward, TaskwardError
from taskward.core.app.policy import make_policy
from taskward.core.db import create_engine, normalise_url
from taskward.core.limits import Limit, Rate
from taskward.core.retry import Constant, Exponential, Fibonacci, Linear
from taskward.core.task import JobSpec, Unique
from taskward.ops.config.model import TaskwardConfig
from taskward.ops.config.problems import ConfigError, Problem
from taskward.ops.config.problems import Path as KeyPath
from taskward.ops.config.sections import DatabaseSection, LimitSection, TaskSection
from taskward.ops.config.sections.tasks import UniqueSection
from taskward.ops.loader import load_app
from taskward.ops.urls import prepare_sqlite


def open_app(config: TaskwardConfig, *, load_tasks: bool = True, migrate: bool = False) -> Taskward:
    """The app ``config`` describes, with its policies applied and its schema checked.

    With ``[app] module`` (and ``load_tasks``) the user's app is imported and moved
    onto ``[database] url``; otherwise an app with no tasks, which every command
    that only reads or changes jobs needs. ``migrate`` creates or upgrades the
    schema (``db upgrade``, ``up``) instead of refusing an out-of-date one.
    Raises :class:`ConfigError` when the file names tasks the app does not have.
    """
    url = config.database.url.get_secret_value()
    prepare_sqlite(url, create=migrate)
    if load_tasks and config.app.module:
        app = load_app(config.app.module, url)
    else:
        app = Taskward(create_engine(url, **engine_options(config.database)))
    try:
        apply_policies(app, config, with_tasks=bool(load_tasks and config.app.module))
        if migrate:
            app.migrate()
        else:
            app.check_schema()
    except BaseException:
        app.close()
        raise
    return app


def engine_options(database: DatabaseSection) -> dict[str, Any]:
    """SQLAlchemy engine options from ``[database]`` (pool and timeouts are PostgreSQL's)."""
    url = normalise_url(database.url.get_secret_value())
    if url.get_backend_name() != "postgresql":
        return {}
    connect_args: dict[str, Any] = {"connect_timeout": max(1, math.ceil(database.connect_timeout))}
    if database.statement_timeout is not None:
        millis = round(database.statement_timeout * 1000)
        connect_args["options"] = f"-c statement_timeout={millis}"
    return {
        "pool_size": database.pool_size,
        "max_overflow": database.max_overflow,
        "pool_timeout": database.pool_timeout,
        "connect_args": connect_args,
    }


@dataclass(slots=True)
class Policies:
    """The core objects a configuration asks for, built and checked, not yet applied."""

    limits: list[Limit] = field(default_factory=list)
    schedules: list[tuple[str, str, JobSpec, dict[str, Any]]] = field(default_factory=list)
    #: Task name -> the full policy keywords of ``@app.task`` with the overrides in.
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def build_policies(
    config: TaskwardConfig, tasks: Iterable[str] | None, app: Taskward | None = None
) -> Policies:
    """Limits and schedules of ``config``; ``tasks`` (known task names) checks references
    (None: the app has no tasks loaded, so task-level entries are left out)."""
    source = str(config.file or "configuration")
    out = Policies()

    def limit(path: KeyPath, section: LimitSection, **scope: str) -> None:
        try:
            out.limits.append(_limit(section, **scope))
        except (TaskwardError, ValueError) as exc:
            out.problems.append(Problem(source, path, str(exc)))

    for name, queue in config.queues.items():
        if queue.limit is not None:
            limit(("queues", name, "limit"), queue.limit, queue=name)
    if tasks is None:
        return out
    known = set(tasks)
    for name, task in config.tasks.items():
        if name not in known:
            out.problems.append(Problem(source, ("tasks", name), _unknown_task(name, known)))
        else:
            if task.limit is not None:
                limit(("tasks", name, "limit"), task.limit, task=name)
            if app is not None:
                try:
                    out.tasks[name] = _task_policy(app, name, task)
                    make_policy(**out.tasks[name])
                except (TaskwardError, ValueError) as exc:
                    out.problems.append(Problem(source, ("tasks", name), str(exc)))
    for name, sched in config.schedules.items():
        if sched.task not in known:
            problem = _unknown_task(sched.task, known)
            out.problems.append(Problem(source, ("schedules", name, "task"), problem))
            continue
        spec = JobSpec(sched.task, tuple(sched.args), dict(sched.kwargs))
        options = {
            "timezone": sched.timezone,
            "catch_up": sched.catch_up_limit if sched.missed == "catch_up" else 0,
            "misfire_grace": sched.misfire_grace,
        }
        out.schedules.append((name, sched.cron, spec, options))
    return out


def apply_policies(app: Taskward, config: TaskwardConfig, *, with_tasks: bool = True) -> None:
    """Check everything, then add the limits and schedules to ``app`` (or raise, untouched).

    ``with_tasks=False``: the app is a bare one for operator commands; entries about
    tasks are not checked against it nor applied."""
    policies = build_policies(config, list(app.tasks) if with_tasks else None, app)
    if policies.problems:
        raise ConfigError(policies.problems)
    for name, keywords in policies.tasks.items():
        app.task(name=name, **keywords)(app.tasks[name].fn)  # re-registered with the overrides
    for limit in policies.limits:
        app.limits.remove(limit.name)  # the file's limit wins over the code's
        app.limits.add(limit)
    for name, cron, spec, options in policies.schedules:
        app.schedules.add(name, cron, spec, **options)


def _task_policy(app: Taskward, name: str, section: TaskSection) -> dict[str, Any]:
    """``@app.task`` keywords of the registered policy with the file's overrides in."""
    p = app.tasks[name].policy
    backoff: Any = p.retry.backoff
    if section.backoff is not None:
        params = section.backoff.model_dump(exclude={"kind"})
        backoff = BACKOFFS[section.backoff.kind](**params)
    unique = p.unique
    if section.unique is not None:
        window = section.unique.window if isinstance(section.unique, UniqueSection) else None
        unique = Unique(window=window) if section.unique is not False else None
    return {
        "queue": p.queue,
        "priority": p.priority if section.priority is None else section.priority,
        "max_attempts": p.max_attempts if section.max_attempts is None else section.max_attempts,
        "backoff": backoff,
        "retry_on": p.retry.retry_on,
        "never_retry_on": p.retry.never_retry_on,
        "timeout": p.timeout if section.timeout is None else section.timeout,
        "unique": unique,
        "tags": p.tags,
        "on_retry": p.on_retry,
    }


BACKOFFS: dict[str, Any] = {
    "exponential": Exponential,
    "linear": Linear,
    "fibonacci": Fibonacci,
    "constant": Constant,
}


def _limit(section: LimitSection, **scope: str) -> Limit:
    rate = None
    if section.rate is not None:
        rate = Rate(section.rate, per=section.per, burst=section.burst)
    return Limit(
        rate=rate,
        concurrency=section.concurrency,
        by=section.by,
        bypass_priority=section.bypass_priority,
        **scope,
    )


def _unknown_task(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    hint = f'; did you mean "{close[0]}"?' if close else ""
    return f"the app has no task named {name!r}{hint}"
