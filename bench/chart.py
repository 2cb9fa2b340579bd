"""Draw docs/performance.png from bench/results/suite.json (`make bench` runs this last).

Left: how many times better hexlit is than `streamlit run` on every workload and metric.
Right: hexlit against the bare frameworks (what the hexagon costs). Bars are the median
of the per-round ratios, whiskers their min and max; the grey band is the noise floor,
the spread of two identical hexlit servers measured the same way.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

import matplotlib

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
    """(label, ratio name, legend, colour, ratios) for every metric that has one of `names`."""
    found = []
    for entry in workloads.values():
        for key, metric in entry["metrics"].items():
            if key == "errors":
                continue
            label = f"{entry['title']} ({metric['unit']})"
            for name, legend, colour in names:
                if name in metric["ratios"]:
                    found.append((label, name, legend, colour, metric["ratios"][name]))
    return found


def noise_band(workloads: dict[str, dict]) -> tuple[float, float]:
    spreads = [
        value
        for entry in workloads.values()
        for metric in entry["metrics"].values()
        for value in metric["ratios"].get(NOISE, [])
    ]
    return (min(spreads), max(spreads)) if spreads else (1.0, 1.0)


def panel(axis: plt.Axes, found: list[tuple], title: str, band: tuple[float, float]) -> None:
    labels = list(dict.fromkeys(row[0] for row in found))
    per_label: dict[str, int] = {}
    height = 0.8 / max(1, max(sum(r[0] == label for r in found) for label in labels))
    axis.axvspan(*band, color="0.85", label="noise floor (identical servers)")
    seen_legends: set[str] = set()
    for label, _, legend, colour, ratios in found:
        slot = per_label.get(label, 0)
        per_label[label] = slot + 1
        y = labels.index(label) + slot * height - 0.4 + height / 2
        median = statistics.median(ratios)
        axis.barh(y, median, height * 0.9, color=colour,
                  label=None if legend in seen_legends else legend)  # fmt: skip
        axis.errorbar(median, y, xerr=[[median - min(ratios)], [max(ratios) - median]],
                      fmt="none", ecolor="black", capsize=2, linewidth=0.8)  # fmt: skip
        seen_legends.add(legend)
    axis.axvline(1.0, color="black", linewidth=0.8)
    axis.set_xscale("log")
    axis.set_yticks(range(len(labels)), labels, fontsize=7)
    axis.invert_yaxis()
    axis.set_title(title, fontsize=9)
    axis.set_xlabel("times better (log scale; right of 1: hexlit is better)", fontsize=8)
    axis.legend(fontsize=7, loc="lower right")


def main() -> None:
    workloads = json.loads(RESULTS.read_text())["workloads"]
    band = noise_band(workloads)
    peers, ceilings = rows(workloads, PEERS), rows(workloads, CEILINGS)
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(13, 7.5), gridspec_kw={"width_ratios": [3, 2]}
    )
    panel(left, peers, "hexlit vs streamlit run 1.67 (same app, same run)", band)
    panel(right, ceilings, "hexlit vs the bare framework (the hexagon's cost)", band)
    figure.suptitle("bench/suite.py on 2 cores shared with the load generator", fontsize=10)
    figure.tight_layout()
    OUTPUT.parent.mkdir(exist_ok=True)
    figure.savefig(sys.argv[1] if len(sys.argv) > 1 else OUTPUT, dpi=110)
    print(f"chart: {OUTPUT.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
