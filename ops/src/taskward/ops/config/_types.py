"""Value types of the config file: durations, cron expressions, masked URLs.

Each type parses what a person writes ("24h", "0 3 * * *") at load time and
fails with a message that is itself the expectation, so an error reads
``retention.completed: expected a duration like "500ms", "30s", "24h" or "30d",
got "a day"``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from taskward.core.db import mask_url
from taskward.core.errors import InvalidScheduleError
from taskward.core.schedules import Schedule
from taskward.core.task import JobSpec

#: The error type of every message written here; the message is the expectation.
EXPECTED = "taskward_expected"

UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
DURATION_HINT = 'a duration like "500ms", "30s", "24h" or "30d"'


def expected(message: str) -> PydanticCustomError:
    """A validation error whose text is what was expected (``got …`` is added later)."""
    return PydanticCustomError(EXPECTED, message)


def parse_duration(value: Any) -> float:
    """Seconds from ``"500ms"``, ``"1h30m"``, ``"30d"`` or a plain number of seconds."""
    if isinstance(value, bool):
        raise expected(DURATION_HINT)
    if isinstance(value, int | float):
        if value < 0:
            raise expected(f"{DURATION_HINT} (not negative)")
        return float(value)
    if not isinstance(value, str):
        raise expected(DURATION_HINT)
    text = value.strip().lower().replace(" ", "")
    if not text or _PART.sub("", text):
        raise expected(DURATION_HINT)
    return sum(float(n) * UNITS[unit] for n, unit in _PART.findall(text))


def format_duration(seconds: float) -> str:
    """The shortest exact spelling: 86400 → ``"1d"``, 90 → ``"90s"``, 0.5 → ``"500ms"``."""
    for unit in ("w", "d", "h", "m", "s"):
        size = UNITS[unit]
        if seconds >= size and (seconds / size).is_integer():
            return f"{int(seconds / size)}{unit}"
    millis = seconds * 1000
    return f"{int(millis)}ms" if millis.is_integer() else f"{seconds}s"


_DURATION_SCHEMA: JsonSchemaValue = {
    "anyOf": [
        {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?\s*(ms|s|m|h|d|w)\s*)+$"},
        {"type": "number", "minimum": 0},
    ],
    "description": 'Seconds, or a duration such as "500ms", "30s", "5m", "24h", "30d".',
}

#: Seconds, written as a number or "500ms" / "24h" / "30d"; shown as the short form.
Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    WithJsonSchema(_DURATION_SCHEMA),
]


def check_cron(expr: str) -> str:
    """Validated by core's own schedule parser, so the file and the worker agree."""
    try:
        Schedule(name="check", cron=expr, spec=JobSpec("check"))
    except InvalidScheduleError as exc:
        reason = str(exc).split(": bad cron expression ", 1)[-1]
        reason = reason.rsplit("': ", 1)[-1]  # APScheduler's "Error validating '25': …"
        raise expected(f'a cron expression "minute hour day month weekday" ({reason})') from None
    return expr


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise expected('an IANA time zone such as "UTC" or "Europe/Paris"') from None
    return name


Cron = Annotated[
    str,
    AfterValidator(check_cron),
    WithJsonSchema({"type": "string", "description": "minute hour day month weekday"}),
]
TimeZone = Annotated[str, AfterValidator(check_timezone)]

PositiveInt = Annotated[int, Field(ge=1)]
Priority = Annotated[int, Field(ge=0, le=9)]


class SecretUrl:
    """A URL that may hold a password: shown and serialised masked, never in ``repr``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __str__(self) -> str:
        return mask_url(self._value) if "://" in self._value else self._value

    def __repr__(self) -> str:
        return f"SecretUrl({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretUrl) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def build(value: Any) -> SecretUrl:
            if isinstance(value, SecretUrl):
                return value
            if not isinstance(value, str) or not value.strip():
                raise expected("a URL string")
            return cls(value.strip())

        return core_schema.no_info_plain_validator_function(
            build, serialization=core_schema.plain_serializer_function_ser_schema(str)
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, _schema: core_schema.CoreSchema, _handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "format": "uri", "writeOnly": True}
