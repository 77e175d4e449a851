"""Finding the user's Taskward application from a ``module:attribute`` string."""

from __future__ import annotations

import importlib
import os
import sys

from taskward.core import Taskward
from taskward.core.db import normalise_url
from taskward.ops.errors import AppImportError, AppLoadError
from taskward.ops.urls import ENV_VAR


def load_app(spec: str, database: str | None = None) -> Taskward:
    """Import ``module:attr`` (from the working directory too) and return the app.

    ``database`` is exported as ``$TASKWARD_DATABASE_URL`` before the import, so an
    app module that reads it needs nothing else. An app that hard-codes its URL is
    moved onto ``database`` after the import, keeping its tasks, hooks and
    subscribers and plugins, so follow-up jobs its handlers enqueue land in the same
    database and its workflows and limits hold there.
    """
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise AppLoadError(spec, "expected module:attribute, e.g. myproject.tasks:app")
    if database:
        os.environ[ENV_VAR] = database
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name + ".").startswith(exc.name + "."):
            raise AppLoadError(spec, f"no module named {exc.name!r}") from None
        raise AppImportError(spec, module_name, exc) from exc
    except Exception as exc:  # the user's module raised: name it, keep the trace for --traceback
        raise AppImportError(spec, module_name, exc) from exc
    app = getattr(module, attr, None)
    if not isinstance(app, Taskward):
        raise AppLoadError(spec, f"{module_name}.{attr} is not a Taskward application")
    if database:
        _use_database(app, database)
    return app


def _use_database(app: Taskward, database: str) -> None:
    wanted = normalise_url(database)
    if app.engine.url.render_as_string(hide_password=False) == wanted.render_as_string(
        hide_password=False
    ):
        return
    app.use_database(wanted)
