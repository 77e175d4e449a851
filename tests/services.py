"""Real services for tests: skip with the reason on a laptop, fail in CI (CI=true)."""

from __future__ import annotations

import os
import socket
from typing import NoReturn

import pytest

PG_ADMIN_URL = os.environ.get("TASKWARD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> NoReturn:
    """A needed service is missing: a failure in CI, a skip elsewhere."""
    if in_ci():
        pytest.fail(f"required service unavailable in CI: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
