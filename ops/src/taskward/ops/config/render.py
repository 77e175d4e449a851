"""The effective configuration as TOML, JSON or YAML, secrets masked.

Masking comes from the types (``SecretStr``, ``SecretUrl``) serialising masked
in JSON mode, so no output path can forget it.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from taskward.ops.config.model import TaskwardConfig

Format = Literal["toml", "json", "yaml"]


def masked(config: TaskwardConfig) -> dict[str, Any]:
    """Plain data with every secret masked and durations written as ``"24h"``."""
    data: dict[str, Any] = config.model_dump(mode="json")
    return data


def render(config: TaskwardConfig, fmt: Format) -> str:
    data = masked(config)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False)
    if fmt == "yaml":
        import yaml

        return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    import tomli_w

    return tomli_w.dumps(_without_none(data))


def _without_none(value: Any) -> Any:
    """TOML has no null: an unset key is simply left out."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value
