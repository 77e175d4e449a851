"""Draw a dashboard from a real Prometheus with matplotlib: each panel where its gridPos
puts it, stats as their last value, time series as lines. Made for the README's picture
of the Overview (``TASKWARD_OVERVIEW_PNG``, see test_stack.py), not as a Grafana clone."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

GRID_ROW_PX = 30  # Grafana's grid: 24 columns, rows of 30 px


def _unit(value: float, unit: str) -> str:
    if math.isnan(value):
        return "NaN"
    if unit == "percentunit":
        return f"{value * 100:.1f}%"
    if unit == "s":
        return f"{value:.2f} s" if value < 60 else f"{value / 60:.1f} min"
    if unit == "ops":
        return f"{value:.2f} ops/s"
    return f"{value:g}"


def _legend(template: str, labels: dict[str, str]) -> str:
    if template == "__auto":
        return ", ".join(f"{k}={v}" for k, v in labels.items() if k not in ("job", "instance"))
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), template)


def render(
    dashboard: dict[str, Any],
    query_range: Callable[[str], list[dict[str, Any]]],
    substitute: Callable[[str], str],
    out: Path,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = dashboard["panels"]
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    width_px, height_px = 1600, rows * GRID_ROW_PX + 40
    fig = plt.figure(figsize=(width_px / 100, height_px / 100), dpi=100, facecolor="#111217")
    fig.suptitle(dashboard["title"], color="#d8d9da", x=0.01, ha="left", fontsize=13)
    for panel in panels:
        g = panel["gridPos"]
        pad = 0.004
        box = [
            g["x"] / 24 + pad,
            1 - (g["y"] + g["h"]) * GRID_ROW_PX / height_px + pad,
            g["w"] / 24 - 2 * pad,
            g["h"] * GRID_ROW_PX / height_px - 2 * pad - 0.02,
        ]
        ax = fig.add_axes(box, facecolor="#181b1f")
        ax.set_title(panel["title"], color="#d8d9da", fontsize=9, loc="left")
        for spine in ax.spines.values():
            spine.set_color("#2c3235")
        ax.tick_params(colors="#8e8e8e", labelsize=7)
        unit = panel["fieldConfig"]["defaults"]["unit"]
        series = [
            (_legend(t["legendFormat"], s["metric"]), s["values"])
            for t in panel["targets"]
            for s in query_range(substitute(t["expr"]))
        ]
        if panel["type"] == "stat":
            ax.set_xticks([])
            ax.set_yticks([])
            last = sum(float(v[-1][1]) for _, v in series if v) if series else float("nan")
            ax.text(0.5, 0.4, _unit(last, unit), color="#73bf69", fontsize=18,
                    ha="center", va="center", transform=ax.transAxes)  # fmt: skip
            continue
        start = min((float(v[0][0]) for _, v in series if v), default=0.0)
        for name, values in series:
            xs = [(float(t) - start) / 60 for t, _ in values]
            ys = [float(y) for _, y in values]
            ax.plot(xs, ys, linewidth=1.2, label=name)
        ax.set_xlabel("minutes", color="#8e8e8e", fontsize=7)
        if unit == "percentunit":
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        elif unit in ("s", "ops"):
            ax.set_ylabel({"s": "seconds", "ops": "per second"}[unit], color="#8e8e8e", fontsize=7)
        if 0 < len(series) <= 8:
            ax.legend(fontsize=6, facecolor="#181b1f", labelcolor="#d8d9da", edgecolor="#2c3235")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, facecolor=fig.get_facecolor())
    plt.close(fig)
