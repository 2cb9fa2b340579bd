"""Draw docs/performance.png from bench/results/suite.json (`make bench` runs this last).

Left: how many times better hexlit is than `streamlit run` on every workload and metric.
Right: hexlit against the bare frameworks (what the hexagon costs). Bars are the median
of the per-round ratios, whiskers their min and max. The grey band behind a row is its
noise floor: the min-max of two identical hexlit servers measured the same way.
"""

from __future__ import annotations

import json
import statistics
import sys
import textwrap
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "suite.json"
OUTPUT = HERE.parent / "docs" / "performance.png"
PEERS = (
    ("hexlit-starlette / streamlit", "hexlit, Starlette", "#1f77b4"),
    ("hexlit-tornado / streamlit", "hexlit, Tornado", "#ff7f0e"),
)
CEILINGS = (
    ("hexlit-starlette / bare-starlette", "Starlette", "#1f77b4"),
    ("echo-starlette / bare-starlette", "Starlette", "#1f77b4"),
    ("hexlit-tornado / bare-tornado", "Tornado", "#ff7f0e"),
    ("echo-tornado / bare-tornado", "Tornado", "#ff7f0e"),
)
NOISE = "hexlit-starlette-twin / hexlit-starlette"


def rows(workloads: dict[str, dict], names: tuple[tuple[str, str, str], ...]) -> list[tuple]:
    """(label, legend, colour, ratios, noise) for every metric that has one of `names`."""
    found = []
    for entry in workloads.values():
        for key, metric in entry["metrics"].items():
            if key == "errors":
                continue
            label = textwrap.fill(f"{entry['title']} ({metric['unit']})", 38)
            noise = metric["ratios"].get(NOISE)
            for name, legend, colour in names:
                if name in metric["ratios"]:
                    found.append((label, legend, colour, metric["ratios"][name], noise))
    return found


def panel(axis: plt.Axes, found: list[tuple], title: str) -> None:
    labels = list(dict.fromkeys(row[0] for row in found))
    slots = max(sum(row[0] == label for row in found) for label in labels)
    height = 0.8 / slots
    per_label: dict[str, int] = {}
    seen: set[str] = set()
    for label, legend, colour, ratios, noise in found:
        slot = per_label.get(label, 0)
        per_label[label] = slot + 1
        row = labels.index(label)
        if slot == 0 and noise:
            legend_noise = None if "noise" in seen else "noise: twin vs hexlit, min-max"
            spread = max(noise) - min(noise)
            axis.barh(row, spread, 0.95, left=min(noise), color="0.85", label=legend_noise)
            seen.add("noise")
        y = row - 0.4 + height * (slot + 0.5)
        median = statistics.median(ratios)
        axis.barh(y, median, height * 0.9, color=colour,
                  label=None if legend in seen else legend)  # fmt: skip
        axis.errorbar(median, y, xerr=[[median - min(ratios)], [max(ratios) - median]],
                      fmt="none", ecolor="black", capsize=2, linewidth=0.8)  # fmt: skip
        seen.add(legend)
    axis.axvline(1.0, color="black", linewidth=0.8)
    axis.set_xscale("log")
    ticks = [0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8]
    axis.set_xticks(ticks, [f"{tick:g}" for tick in ticks], fontsize=7)
    axis.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    axis.set_xlim(0.5, 10)
    axis.set_yticks(range(len(labels)), labels, fontsize=7)
    axis.invert_yaxis()
    axis.set_title(title, fontsize=9)
    axis.set_xlabel("times better (log scale; right of 1: hexlit is better)", fontsize=8)
    axis.legend(fontsize=7, loc="lower right")


def main() -> None:
    workloads = json.loads(RESULTS.read_text())["workloads"]
    peers, ceilings = rows(workloads, PEERS), rows(workloads, CEILINGS)
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(15, 8), gridspec_kw={"width_ratios": [3, 2]}
    )
    panel(left, peers, "hexlit vs streamlit run 1.67 (same app, same run)")
    panel(right, ceilings, "hexlit vs the bare framework (the hexagon's cost)")
    figure.suptitle("bench/suite.py on 2 cores shared with the load generator", fontsize=10)
    figure.tight_layout()
    OUTPUT.parent.mkdir(exist_ok=True)
    figure.savefig(sys.argv[1] if len(sys.argv) > 1 else OUTPUT, dpi=110)
    print(f"chart: {OUTPUT.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
