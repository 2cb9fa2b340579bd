"""Draw docs/img/workers-curve.png from bench/results/workers.json (`bench/workers.py`).

Four panels against the number of hexlit workers (1, 2, 4): reruns/s with 200 sessions,
the CPU the server's process tree got meanwhile (in cores: why it does or does not
scale), sessions/s in churn, and the memory of the whole process tree. Points are medians of the
rounds, whiskers their min and max. `streamlit run`, measured in the same rounds, is the
horizontal line with its min-max band; the dashed line is issue 14's goal (1.5x and 1.3x
`streamlit run`). Two workers with snapshots off are the hollow marker.
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
RESULTS = HERE / "results" / "workers.json"
OUTPUT = HERE.parent / "docs" / "img" / "workers-curve.png"
GOALS = {"200 sessions x 10 reruns": 1.5, "session churn, 32 clients": 1.3}


def curve(values: dict[str, dict[str, list[float]]], metric: str) -> list[tuple[int, list[float]]]:
    """(workers, series) for every `hexlit-wN` server with snapshots as configured."""
    points = []
    for name, metrics in values.items():
        count = name.removeprefix("hexlit-w")
        if name.startswith("hexlit-w") and count.isdigit():
            points.append((int(count), metrics[metric]))
    return sorted(points)


def throughput(axis: plt.Axes, values: dict, metric: str, title: str, unit: str) -> None:
    points = curve(values, metric)
    workers = [count for count, _ in points]
    medians = [statistics.median(series) for _, series in points]
    low = [m - min(s) for m, (_, s) in zip(medians, points, strict=True)]
    high = [max(s) - m for m, (_, s) in zip(medians, points, strict=True)]
    axis.errorbar(workers, medians, yerr=[low, high], marker="o", capsize=3,
                  color="#1f77b4", label="hexlit (snapshots on when N > 1)")  # fmt: skip
    nosnap = values.get("hexlit-w2-nosnap", {}).get(metric)
    if nosnap:
        median = statistics.median(nosnap)
        axis.errorbar([2.08], [median], yerr=[[median - min(nosnap)], [max(nosnap) - median]],
                      marker="o", mfc="white", capsize=3, color="#1f77b4", linestyle="none",
                      label="hexlit, 2 workers, snapshots off")  # fmt: skip
    streamlit = values.get("streamlit", {}).get(metric)
    if streamlit:
        median = statistics.median(streamlit)
        axis.axhspan(min(streamlit), max(streamlit), color="#ff7f0e", alpha=0.15)
        axis.axhline(median, color="#ff7f0e", label="streamlit run (min-max band)")
        goal = GOALS.get(title)
        if goal:
            axis.axhline(median * goal, color="#ff7f0e", linestyle="--", linewidth=0.8,
                         label=f"goal: {goal}x streamlit run")  # fmt: skip
    axis.set_xticks([1, 2, 4])
    axis.set_xlabel("hexlit workers (2 cores, shared with the load generator)", fontsize=8)
    axis.set_ylabel(unit, fontsize=8)
    axis.set_ylim(bottom=0)
    axis.set_title(title, fontsize=9)
    axis.legend(fontsize=7, loc="lower right")


def cores(axis: plt.Axes, values: dict, machine_cores: int) -> None:
    """Cores the server's tree used in the rerun phase: reruns/s x CPU seconds per rerun."""
    used = {
        name: [
            rate * cpu / 1000
            for rate, cpu in zip(
                metrics["reruns_per_s"], metrics["server_cpu_ms_per_rerun"], strict=True
            )
        ]
        for name, metrics in values.items()
    }
    points = curve({name: {"cores": series} for name, series in used.items()}, "cores")
    workers = [count for count, _ in points]
    medians = [statistics.median(series) for _, series in points]
    low = [m - min(s) for m, (_, s) in zip(medians, points, strict=True)]
    high = [max(s) - m for m, (_, s) in zip(medians, points, strict=True)]
    axis.errorbar(workers, medians, yerr=[low, high], marker="o", capsize=3, color="#1f77b4",
                  label="hexlit (snapshots on when N > 1)")  # fmt: skip
    if "streamlit" in used:
        axis.axhline(statistics.median(used["streamlit"]), color="#ff7f0e", label="streamlit run")
    axis.axhline(1, color="black", linestyle=":", linewidth=0.8,
                 label="one process's limit (the GIL)")  # fmt: skip
    axis.axhline(machine_cores, color="black", linestyle="--", linewidth=0.8,
                 label="the machine's cores")  # fmt: skip
    axis.set_xticks([1, 2, 4])
    axis.set_ylim(0, machine_cores + 0.3)
    axis.set_xlabel("hexlit workers", fontsize=8)
    axis.set_ylabel("cores (CPU s per s)", fontsize=8)
    axis.set_title("CPU the server got, 200 sessions x 10 reruns", fontsize=9)
    axis.legend(fontsize=7, loc="upper right")


def memory(axis: plt.Axes, data: dict) -> None:
    values = data["results"]["memory: idle tree and idle sessions"]
    cache = data.get("cache_resource", {})
    points = curve(values, "tree_rss_mb")
    workers = [count for count, _ in points]
    idle = [statistics.median(series) for _, series in points]
    cached = [cache.get(f"hexlit-w{count}", {}).get("tree_growth_mb", 0.0) for count in workers]
    axis.bar(workers, idle, width=0.6, color="#1f77b4", label="hexlit tree, idle")
    axis.bar(workers, cached, width=0.6, bottom=idle, color="#aec7e8",
             label="+ st.cache_resource of 64 MB, filled on every worker")  # fmt: skip
    streamlit = values.get("streamlit", {}).get("tree_rss_mb")
    if streamlit:
        median = statistics.median(streamlit)
        axis.axhline(median, color="#ff7f0e", label="streamlit run, idle")
        grown = cache.get("streamlit", {}).get("tree_growth_mb", 0.0)
        axis.axhline(median + grown, color="#ff7f0e", linestyle=":",
                     label="streamlit run + the cache")  # fmt: skip
    axis.set_xticks([1, 2, 4])
    axis.set_xlabel("hexlit workers", fontsize=8)
    axis.set_ylabel("RSS of the process tree (MB)", fontsize=8)
    axis.set_title("memory", fontsize=9)
    axis.legend(fontsize=7, loc="upper left")


def main() -> None:
    data = json.loads(RESULTS.read_text())
    results = data["results"]
    figure, grid = plt.subplots(2, 2, figsize=(13, 9))
    axes = grid.flatten()
    reruns = results["200 sessions x 10 reruns"]
    throughput(axes[0], reruns, "reruns_per_s", "200 sessions x 10 reruns", "reruns/s")
    cores(axes[1], reruns, data["cores"])
    throughput(axes[2], results["session churn, 32 clients"], "sessions_per_s",
               "session churn, 32 clients", "sessions/s")  # fmt: skip
    memory(axes[3], data)
    loads = [
        round(value, 1) for pair in data["load_average_before_after"].values() for value in pair
    ]
    figure.suptitle(
        f"bench/workers.py, {data.get('date', '')}, {data['cores']} cores, {data['rounds']} "
        f"interleaved rounds; load average during the run {min(loads)}-{max(loads)}",
        fontsize=10,
    )
    figure.tight_layout()
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=100)
    print(f"chart: {output}")


if __name__ == "__main__":
    main()
