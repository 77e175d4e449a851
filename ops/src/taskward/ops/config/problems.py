"""Every config error at once, each naming where, which key, the bad value and the expectation.

``taskward.toml: queues.email.concurrency: expected an integer ≥ 1, got "ten"``.
pydantic reports all errors of one validation; this module turns them into
those lines, with a "did you mean" for unknown keys and masked secrets.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from taskward.core.db import mask_url
from taskward.ops.config._types import EXPECTED
from taskward.ops.errors import OpsError

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """One error: where it came from (a file, ``$VAR``, the command line) and what is wrong."""

    source: str
    path: Path
    message: str

    def __str__(self) -> str:
        key = dotted(self.path)
        return f"{self.source}: {key}: {self.message}" if key else f"{self.source}: {self.message}"


class ConfigError(OpsError):
    """The configuration is not valid; nothing was applied.

    ``str()`` puts every problem on its own line; ``problems`` has them as values.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


def dotted(path: Path) -> str:
    """``("tasks", "billing.charge", "timeout")`` → ``tasks."billing.charge".timeout``."""
    parts = []
    for part in path:
        if isinstance(part, int):
            parts.append(f"[{part}]")
            continue
        bare = part.replace("_", "").replace("-", "").isalnum()
        parts.append(("." if parts else "") + (part if bare else json.dumps(part)))
    return "".join(parts)


def shown(value: Any, secret: bool = False) -> str:
    """A bad value as the user wrote it (TOML-ish), secrets masked."""
    if secret:
        return "***" if not (isinstance(value, str) and "://" in value) else mask_url(value)
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def from_validation(
    error: ValidationError, data: Mapping[str, Any], schema: Mapping[str, Any], source_of: Any
) -> list[Problem]:
    """Problems from a pydantic error; ``source_of(path)`` names where a key's value came from."""
    found: dict[Path, list[str]] = {}
    values: dict[Path, str] = {}
    for err in error.errors(include_url=False):
        path = _data_path(err["loc"], data, err["type"])
        node = _schema_at(schema, path)
        message, value = _message(err, node, schema, path)
        messages = found.setdefault(path, [])
        if message not in messages:
            messages.append(message)
        if value is not None:
            values.setdefault(path, value)
    problems = []
    for path, messages in found.items():
        # A union's members each fail: "expected true or false, or a table, got ...".
        text = ", or ".join(messages)
        text = f"expected {text}, got {values[path]}" if path in values else text
        problems.append(Problem(source_of(path), path, text))
    return problems


def _message(
    err: Any, node: Mapping[str, Any], schema: Mapping[str, Any], path: Path
) -> tuple[str, str | None]:
    """The expectation (or the whole message) and the bad value as shown."""
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "extra_forbidden":
        allowed = list(_schema_at(schema, path[:-1]).get("properties", {}))
        close = difflib.get_close_matches(str(path[-1]), allowed, n=1, cutoff=0.6)
        return (f'unknown key; did you mean "{close[0]}"?' if close else _unknown(allowed)), None
    if kind == "missing":
        return "missing; this key is required", None
    expectation = (
        err["msg"]
        if kind == EXPECTED
        else _expectation(kind, ctx, node) or _plain(err["msg"]).lower()
    )
    if kind == "union_tag_invalid":
        value = ctx.get("tag")
    return expectation, shown(value, bool(node.get("writeOnly")))


def _unknown(allowed: Iterable[str]) -> str:
    names = ", ".join(allowed)
    return f"unknown key (known: {names})" if names else "unknown key"


TYPE_WORDS = {"integer": "an integer", "number": "a number", "string": "a string"}


def _expectation(kind: str, ctx: Mapping[str, Any], node: Mapping[str, Any]) -> str | None:
    if kind.startswith("bool"):
        return "true or false"
    if kind in ("literal_error", "union_tag_invalid"):
        options = node.get("enum") or _tags(ctx)
        return "one of " + ", ".join(json.dumps(o) for o in options) if options else None
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "a table"
    if kind in ("list_type", "tuple_type"):
        return "an array"
    if kind == "string_too_short":
        return "a non-empty string"
    if kind == "string_pattern_mismatch":
        return f"a string matching {ctx.get('pattern')}"
    numeric = kind.startswith(("int_", "float_", "greater_", "less_", "multiple_"))
    return _numeric(node) if numeric else None


def _numeric(node: Mapping[str, Any]) -> str:
    word = TYPE_WORDS.get(node.get("type", ""), "a number")
    low, high = node.get("minimum"), node.get("maximum")
    if "exclusiveMinimum" in node:
        return f"{word} > {node['exclusiveMinimum']}"
    if low is not None and high is not None:
        return f"{word} from {low} to {high}"
    if low is not None:
        return f"{word} ≥ {low}"
    return f"{word} ≤ {high}" if high is not None else word


def _tags(ctx: Mapping[str, Any]) -> list[str]:
    expected = str(ctx.get("expected_tags") or ctx.get("expected") or "")
    return [t.strip(" '\"") for t in expected.replace(" or ", ",").split(",") if t.strip(" '\"")]


def _plain(msg: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    return msg.removeprefix("Input should be ").rstrip(".")


def _data_path(loc: Sequence[str | int], data: Any, kind: str) -> Path:
    """The error's location in the user's data. pydantic inserts names of union members
    and tags (``backoff.exponential.cap``, ``unique.bool``) that the user never wrote:
    only keys present in the data stay, and a missing key at the end."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        present = isinstance(node, Mapping) and part in node
        if present or (isinstance(node, list) and isinstance(part, int) and part < len(node)):
            node = node[part]
        elif kind == "missing" and i == len(loc) - 1:
            pass
        else:
            continue
        path.append(part)
    return tuple(path)


def _schema_at(schema: Mapping[str, Any], path: Path) -> Mapping[str, Any]:
    """The JSON schema of the value at ``path`` ({} when it cannot be followed)."""
    defs = schema.get("$defs", {})
    node: Mapping[str, Any] = schema
    for part in path:
        node = _resolve(node, defs)
        props = node.get("properties", {})
        if isinstance(part, str) and part in props:
            node = props[part]
        elif isinstance(node.get("additionalProperties"), Mapping):
            node = node["additionalProperties"]
        elif isinstance(node.get("items"), Mapping):
            node = node["items"]
        else:
            return {}
    return _resolve(node, defs)


def _resolve(node: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow ``$ref`` and pick the non-null member of ``X | None`` unions."""
    while True:
        if "$ref" in node:
            node = defs.get(str(node["$ref"]).rsplit("/", 1)[-1], {})
            continue
        members = [m for m in node.get("anyOf", []) if m.get("type") != "null"]
        if len(members) == 1:
            node = members[0]
            continue
        return node
