"""Medians and pgaurora/PostgreSQL ratios; JSON and a PNG plot in benchmarks/results/.

Owns the summary of benchmark runs. Not running anything (harness.py).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from typing import Any

from benchmarks.harness import RunResult

RESULTS_DIR = os.path.join(os.path.dirname(__file__), "results")


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def summarize(name: str, results: dict[str, list[RunResult]]) -> dict[str, Any]:
    summary: dict[str, Any] = {"workload": name, "servers": {}}
    for server, runs in results.items():
        lat = [x for r in runs for x in r.latencies_ms]
        summary["servers"][server] = {
            "runs_ops_per_sec": [round(r.ops_per_sec, 1) for r in runs],
            "median_ops_per_sec": round(statistics.median(r.ops_per_sec for r in runs), 1),
            "latency_ms_p50": percentile(lat, 50),
            "latency_ms_p99": percentile(lat, 99),
            "extra": [r.extra for r in runs if r.extra],
        }
    pg = summary["servers"].get("postgresql", {}).get("median_ops_per_sec")
    ours = summary["servers"].get("pgaurora", {}).get("median_ops_per_sec")
    if pg and ours is not None:
        summary["ratio_pgaurora_over_postgresql"] = round(ours / pg, 3)
    pg_p99 = summary["servers"].get("postgresql", {}).get("latency_ms_p99")
    ours_p99 = summary["servers"].get("pgaurora", {}).get("latency_ms_p99")
    if pg_p99 and ours_p99 is not None:
        summary["p99_ratio_pgaurora_over_postgresql"] = round(ours_p99 / pg_p99, 2)  # latency: lower is better
    bare = summary["servers"].get("bare-asyncio", {}).get("median_ops_per_sec")
    if pg and bare is not None:
        summary["ratio_bare_asyncio_over_postgresql"] = round(bare / pg, 3)
    return summary


def write(summaries: list[dict[str, Any]]) -> str:
    os.makedirs(RESULTS_DIR, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    doc = {"when": stamp, "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
           "workloads": summaries}
    path = os.path.join(RESULTS_DIR, "latest.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
    for s in summaries:
        with open(os.path.join(RESULTS_DIR, f"{s['workload']}.json"), "w") as f:
            json.dump({"when": stamp, **s}, f, indent=2)
    plot(summaries, os.path.join(RESULTS_DIR, "latest.png"))
    return path


def plot(summaries: list[dict[str, Any]], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [s["workload"] for s in summaries]
    pg = [s["servers"].get("postgresql", {}).get("median_ops_per_sec", 0) for s in summaries]
    ours = [s["servers"].get("pgaurora", {}).get("median_ops_per_sec", 0) for s in summaries]
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(names)), 4))
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], pg, width=0.4, label="PostgreSQL 15")
    ax.bar([x + 0.2 for x in xs], ours, width=0.4, label="pgaurora")
    for x, s in zip(xs, summaries, strict=True):
        ratio = s.get("ratio_pgaurora_over_postgresql")
        if ratio is not None:
            ax.annotate(f"{ratio:.2f}x", (x + 0.2, ours[x]), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(list(xs), names, rotation=20, ha="right")
    ax.set_ylabel("operations / second (median)")
    ax.set_title("pgaurora vs PostgreSQL 15, same client, same machine")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def print_table(summaries: list[dict[str, Any]]) -> None:
    print(f"\n{'workload':<28}{'PostgreSQL ops/s':>18}{'pgaurora ops/s':>18}{'ratio':>8}"
          f"{'p50 ms (PG/ours)':>20}{'p99 ms (PG/ours)':>20}{'p99 ratio':>10}")
    for s in summaries:
        pg = s["servers"].get("postgresql", {})
        ours = s["servers"].get("pgaurora", {})
        ratio = s.get("ratio_pgaurora_over_postgresql")
        p99_ratio = s.get("p99_ratio_pgaurora_over_postgresql")
        print(f"{s['workload']:<28}{pg.get('median_ops_per_sec') or 0:>18.1f}{ours.get('median_ops_per_sec') or 0:>18.1f}"
              f"{(ratio or 0):>8.3f}{_pair(pg, ours, 'latency_ms_p50'):>20}{_pair(pg, ours, 'latency_ms_p99'):>20}"
              f"{(p99_ratio or 0):>10.2f}")


def _pair(pg: dict[str, Any], ours: dict[str, Any], key: str) -> str:
    a, b = pg.get(key), ours.get(key)
    return f"{a or 0:.2f}/{b or 0:.2f}" if a is not None or b is not None else "-"
