"""``[database]``: where the jobs live and how connections behave."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from taskward.ops.config._types import Duration, PositiveInt, SecretUrl
from taskward.ops.config.sections._base import Section
from taskward.ops.urls import DEFAULT_URL


class DatabaseSection(Section):
    url: SecretUrl = SecretUrl(DEFAULT_URL)
    """``sqlite:///path`` or ``postgresql://user:password@host/db``; use ``${ENV}`` for the
    password. Shown with the password masked."""
    pool_size: PositiveInt = 10
    """Connections kept open per process (PostgreSQL)."""
    max_overflow: Annotated[int, Field(ge=0)] = 20
    """Extra connections opened under load beyond ``pool_size`` (PostgreSQL)."""
    pool_timeout: Duration = 30.0
    """How long a caller waits for a free pooled connection before failing."""
    connect_timeout: Duration = 5.0
    """How long opening a connection may take (PostgreSQL; the same 5 s as without a file)."""
    statement_timeout: Duration | None = None
    """Longest a single statement may run before the server cancels it (PostgreSQL)."""
