"""``taskward.toml``: one file for every policy, validated all at once, applied all or nothing.

Use from a command::

    config = load_settings(config_path, {"database": {"url": database_flag}})
    app = open_app(config)          # the [app] module's app, or one with no tasks

Precedence is defaults < file < environment (``TASKWARD_SECTION__KEY``) < command
line. See :mod:`taskward.ops.config.sections` for adding a section.

Library: pydantic-settings (over msgspec) because validation must report every
error of a file at once (msgspec stops at the first), its environment source
already understands nested keys (``__``) against the model, and pydantic gives
the JSON Schema for editors and ``SecretStr`` for masking.
"""

from taskward.ops.config.load import json_schema, load_settings
from taskward.ops.config.model import TaskwardConfig
from taskward.ops.config.problems import ConfigError, Problem

__all__ = ["ConfigError", "Problem", "TaskwardConfig", "json_schema", "load_settings"]
