"""The hot-path JSON codec must behave exactly like the stdlib's ``json``."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from taskward.core._json import dumps, loads

VALUES: list[Any] = [
    None,
    True,
    0,
    -7,
    10**30,
    1.5,
    -0.0,
    1e300,
    "",
    'é "quoted" \\ \n \u2028',
    [],
    {},
    [1, [2, {"a": None}], "x"],
    {"b": 1, "a": [True, False], "é": {"nested": []}},
    {1: "int key", None: "none key"},
    (1, 2),
]


@pytest.mark.parametrize("value", VALUES)
def test_dumps_is_json_dumps_without_nan(value: Any) -> None:
    assert dumps(value) == json.dumps(value, allow_nan=False)


@pytest.mark.parametrize("value", [math.nan, math.inf, [1, -math.inf]])
def test_dumps_refuses_non_finite_floats(value: Any) -> None:
    with pytest.raises(ValueError, match="Out of range float"):
        dumps(value)


@pytest.mark.parametrize("value", [{1, 2}, object(), [b"bytes"]])
def test_dumps_refuses_what_json_cannot_hold(value: Any) -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps(value)


def test_dumps_reports_a_cycle_as_value_error() -> None:
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    with pytest.raises(ValueError, match="Circular reference"):
        dumps(cyclic)


@pytest.mark.parametrize("value", VALUES[:-2])
def test_loads_round_trips_text_and_bytes(value: Any) -> None:
    text = json.dumps(value)
    assert loads(text) == json.loads(text)
    assert loads(text.encode()) == json.loads(text)
    assert loads(memoryview(text.encode())) == json.loads(text)


@pytest.mark.parametrize("text", [" [1]", "[1] ", "\n{}\t"])
def test_loads_accepts_surrounding_whitespace(text: str) -> None:
    assert loads(text) == json.loads(text)


@pytest.mark.parametrize("text", ["", "[1] x", "nope", "[1", "{'a': 1}"])
def test_loads_rejects_what_json_rejects(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        loads(text)


def test_loads_raises_type_error_for_a_number_like_json_loads() -> None:
    # SQLite hands back a bare number for a JSON column holding one; SQLAlchemy's
    # SQLite JSON type catches TypeError (as json.loads raises it) and keeps the number.
    with pytest.raises(TypeError):
        loads(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        json.loads(5)  # type: ignore[arg-type]
