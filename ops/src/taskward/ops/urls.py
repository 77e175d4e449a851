"""Which database a command uses, and making sure a SQLite file is where it should be.

Every command and process agrees on one default, so ``taskward db upgrade``,
``taskward worker`` and an app built with :func:`database_url` meet in the same
database without any flag: ``$TASKWARD_DATABASE_URL``, else a SQLite file under
``./.taskward/`` (git-ignored).
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError

from taskward.core import DatabaseUnavailableError
from taskward.core.db import DEFAULT_URL, ENV_VAR, default_url, mask_url, pasteable_url

__all__ = ["DEFAULT_URL", "ENV_VAR", "database_url", "prepare_sqlite", "sqlite_file"]


def database_url(explicit: str | None = None) -> str:
    """``explicit`` if given, else ``$TASKWARD_DATABASE_URL``, else the embedded default."""
    return explicit or default_url()


def sqlite_file(url: str | sa.URL) -> Path | None:
    """The file of a SQLite URL; None for other dialects, memory databases and bad URLs."""
    try:
        parsed = sa.make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def prepare_sqlite(url: str | sa.URL, *, create: bool) -> None:
    """Create a SQLite file's directory (``create``), or refuse a file that is not there.

    Without this, opening a missing file would silently create an empty database
    and every read command would leave stray files behind.
    """
    path = sqlite_file(url)
    if path is None:
        return
    if create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = f"cannot create {path.parent}: {exc}"
            raise DatabaseUnavailableError(mask_url(url), reason) from None
    elif not path.exists():
        raise DatabaseUnavailableError(
            mask_url(url),
            f"no database file at {path}:"
            f" run `taskward db upgrade --database {pasteable_url(url)}`",
        )
