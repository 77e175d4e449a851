"""Bounded label values: a metric label never holds an unbounded value.

Tasks are registered, so ``task`` is bounded by the registry; a job enqueued
by name for a task this process does not know counts as ``task="_other"``.
``error_type`` is the exception's qualified class name, capped at
``max_error_types`` distinct values per (queue, task); later ones become
``_OTHER`` (the semconv fallback value).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

OTHER_TASK = "_other"
OTHER_ERROR = "_OTHER"


class LabelPolicy:
    def __init__(self, tasks: Mapping[str, Any], max_error_types: int) -> None:
        self._tasks = tasks
        self._max_error_types = max_error_types
        self._errors: dict[tuple[str, str], set[str]] = {}
        self._lock = threading.Lock()

    def task(self, name: str) -> str:
        """The task label: the name if registered here, else ``_other``."""
        return name if name in self._tasks else OTHER_TASK

    def error_type(self, queue: str, task: str, error_type: str) -> str:
        """The error label, or ``_OTHER`` once (queue, task) has its quota of types."""
        with self._lock:
            seen = self._errors.setdefault((queue, task), set())
            if error_type in seen:
                return error_type
            if len(seen) >= self._max_error_types:
                return OTHER_ERROR
            seen.add(error_type)
            return error_type
