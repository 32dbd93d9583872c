#!/usr/bin/env python3
"""Benchmark: the prometheus_query module (4 PromQL checks judged per series) vs `promtool query instant`.

Sends traffic to a route of its own on the lab API so the queries have series, then interleaves per
run: the anchor - Prometheus's own `promtool query instant` once per query (what the runbooks do with
curl | jq) - and the module evaluating the same queries with thresholds and findings. Prints medians
and the ratio module / anchor; writes bench/results/prometheus_query.json. No thresholds.
Usage: .venv/bin/python bench/prometheus_query.py [-n RUNS]   (lab up with --with prometheus)
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.helpers import lab_state, run_module  # noqa: E402
from tests.integration.prom_seed import api_traffic, unique_route  # noqa: E402


def queries(route: str) -> list[dict]:
    sel = f'route="{route}"'
    quantile = f"sum by (le, route) (rate(http_request_duration_seconds_bucket{{{sel}}}[1m]))"
    total = f"sum by (route) (rate(http_request_duration_seconds_count{{{sel}}}[1m]))"
    return [
        {"name": "rate", "query": total},
        {"name": "p95", "query": f"histogram_quantile(0.95, {quantile})", "warn": 0.5, "crit": 2},
        {"name": "p99", "query": f"histogram_quantile(0.99, {quantile})", "warn": 2, "crit": 5},
        {"name": "errors", "query": f'100 * (sum by (route) (rate(http_request_duration_seconds_count{{{sel},status=~"5.."}}[1m]))'
                                    f" or 0 * {total}) / {total}", "warn": 5, "crit": 10},
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=5)
    args = parser.parse_args()
    prom = lab_state()["services"]["prometheus"]
    promtool = shutil.which("promtool") or sys.exit("promtool not found (apt-get install prometheus)")
    route = unique_route("bench")
    api_traffic(prom["api_url"], route, 20, delay_ms=50)
    time.sleep(2.5)
    api_traffic(prom["api_url"], route, 20, delay_ms=50)
    time.sleep(2.5)
    checks = queries(route)
    timings: dict[str, list[float]] = {"anchor": [], "module": [], "module_work": []}
    for _run in range(args.runs):
        started = time.perf_counter()
        for check in checks:
            out = subprocess.run([promtool, "query", "instant", prom["url"], check["query"]],
                                 capture_output=True, text=True, timeout=30)
            assert out.returncode == 0, out.stderr
        timings["anchor"].append(time.perf_counter() - started)
        started = time.perf_counter()
        result = run_module("prometheus_query", {"url": prom["url"], "queries": checks})
        timings["module"].append(time.perf_counter() - started)
        assert result.get("failed") is not True and result["reachable"], result
        timings["module_work"].append(result["duration"])  # inside the module: the HTTP queries and verdicts
    medians = {k: round(statistics.median(v), 4) for k, v in timings.items()}
    report = {"runs": args.runs, "queries": len(checks), "median_seconds": medians,
              "ratio_module_to_anchor": round(medians["module"] / medians["anchor"], 2), "timings": timings}
    out = HERE / "results" / "prometheus_query.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"promtool query instant x{len(checks)}: {medians['anchor']:.3f} s; prometheus_query module: "
          f"{medians['module']:.3f} s (of which queries and verdicts {medians['module_work']:.3f} s); "
          f"ratio {report['ratio_module_to_anchor']}")


if __name__ == "__main__":
    main()
