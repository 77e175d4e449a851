"""The base of every section: frozen, unknown keys rejected, field docs kept."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A table of ``taskward.toml``. Unknown keys are errors (typos never pass silently)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, use_attribute_docstrings=True, validate_default=True
    )
