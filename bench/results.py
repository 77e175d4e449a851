"""Benchmark records: ``record(name, dialect, value, unit)``, printed and saved as JSON.

Any suite (or another helper's instrumentation) calls :func:`record`; the runner
writes everything recorded to ``bench/results/latest.json`` at the end. A run of
a subset of suites merges into the existing file, replacing only the records it
measured again, so figures stay comparable from run to run.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).with_name("results")
LATEST = RESULTS_DIR / "latest.json"


@dataclass(frozen=True, slots=True)
class Record:
    name: str
    dialect: str
    value: float
    unit: str


_recorded: list[Record] = []


def record(name: str, dialect: str, value: float, unit: str) -> Record:
    """Keep one figure and print it as it comes in."""
    rec = Record(name, dialect, round(float(value), 3), unit)
    _recorded.append(rec)
    print(f"  {dialect:<10} {name:<32} {_format(rec.value):>12} {unit}", flush=True)
    return rec


def recorded() -> list[Record]:
    return list(_recorded)


def write(path: Path = LATEST) -> Path:
    """Merge this run's records into ``path``: same (name, dialect) replaced, others kept."""
    fresh = {(r.name, r.dialect): asdict(r) for r in _recorded}
    kept: list[dict[str, Any]] = []
    if path.exists():
        try:
            previous = json.loads(path.read_text())
        except (OSError, ValueError):
            previous = []
        kept = [r for r in previous if (r.get("name"), r.get("dialect")) not in fresh]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([*kept, *fresh.values()], indent=2) + "\n")
    return path


def _format(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
