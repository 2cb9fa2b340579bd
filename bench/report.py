"""Print bench/results/suite.json as the Markdown tables of docs/performance.md.

`python -m bench.report` (from the repository root) after `make bench`: medians of the
rounds, and every ratio as the median [min-max] of its per-round ratios ("x better": above
1, the first is better).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "suite.json"


def median(values: list[float]) -> str:
    value = statistics.median(values)
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def ratio(values: list[float] | None) -> str:
    if not values:
        return ""
    return f"{statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]"


def peers_table(workloads: dict[str, dict]) -> list[str]:
    lines = [
        "| workload | metric | streamlit | hexlit Starlette | hexlit Tornado "
        "| Starlette vs streamlit | Tornado vs streamlit | twin vs Starlette (noise) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for entry in workloads.values():
        values = entry["values"]
        if "streamlit" not in values:
            continue
        for key, metric in entry["metrics"].items():
            found = metric["ratios"]
            cells = [
                entry["title"],
                metric["unit"] + (" (lower is better)" if not metric["higher_is_better"] else ""),
                median(values["streamlit"][key]),
                median(values["hexlit-starlette"][key]),
                median(values["hexlit-tornado"][key]),
                ratio(found.get("hexlit-starlette / streamlit")),
                ratio(found.get("hexlit-tornado / streamlit")),
                ratio(found.get("hexlit-starlette-twin / hexlit-starlette")),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def ceilings_table(workloads: dict[str, dict]) -> list[str]:
    lines = [
        "| workload | metric | bare Starlette | hexlit Starlette | ratio "
        "| bare Tornado | hexlit Tornado | ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for entry in workloads.values():
        values = entry["values"]
        if "bare-starlette" not in values:
            continue
        prefix = "echo" if "echo-starlette" in values else "hexlit"
        for key, metric in entry["metrics"].items():
            found = metric["ratios"]
            cells = [
                entry["title"],
                metric["unit"],
                median(values["bare-starlette"][key]),
                median(values[f"{prefix}-starlette"][key]),
                ratio(found.get(f"{prefix}-starlette / bare-starlette")),
                median(values["bare-tornado"][key]),
                median(values[f"{prefix}-tornado"][key]),
                ratio(found.get(f"{prefix}-tornado / bare-tornado")),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    results = json.loads(RESULTS.read_text())
    print(f"{results['rounds']} rounds per figure, timed rounds of {results['round_seconds']} s\n")
    print("\n".join(peers_table(results["workloads"])))
    print()
    print("\n".join(ceilings_table(results["workloads"])))


if __name__ == "__main__":
    main()
