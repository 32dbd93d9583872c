#!/usr/bin/env python3
"""Benchmark: `opsbook run redis-health` / `queue-backlog` vs the seeds' redis-cli sequences.

Anchors (same machine, same run, interleaved):
  redis-health   <-> redis-cli PING; INFO memory; INFO stats; SLOWLOG GET 5; LATENCY LATEST
                     (SparkOne §3, ML Bling §4, Techbra metrics)
  queue-backlog  <-> redis-cli LLEN sync_queue (ML Bling §3), once per sample
opsbook runs with redis_health_sample_seconds=0 and queue_backlog_samples=1 so no deliberate
sleep is timed. The queue is `redist:bench:sync_queue` in database 11 holding one item (an LLEN
of a missing key would count as a keyspace miss and lower the shared lab's hit rate); it is
deleted at the end. Prints medians and ratios; writes bench/results/redis_scenarios.json.
Usage: .venv/bin/python bench/redis_scenarios.py [-n RUNS]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.labinfo import read_state

sys.path.insert(0, str(Path(__file__).resolve().parent))
from health_check import timed  # noqa: E402  (same timing helper as the health-check bench)

HERE = Path(__file__).resolve().parent
QUEUE = "redist:bench:sync_queue"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=5, help="runs per command (median reported)")
    args = parser.parse_args()
    rd = read_state(with_secrets=True)["services"]["redis"]
    cli = [rd["tools"]["redis-cli"], "-h", rd["host"], "-p", str(rd["port"]), "--user", rd["user"],
           "--pass", rd["password"], "--no-auth-warning"]
    opsbook = str(Path(sys.executable).with_name("opsbook"))
    env = dict(os.environ, NO_COLOR="1")
    pairs = {
        "redis-health": (
            [cli + ["PING"], cli + ["INFO", "memory"], cli + ["INFO", "stats"], cli + ["SLOWLOG", "GET", "5"],
             cli + ["LATENCY", "LATEST"]],
            [opsbook, "-q", "run", "redis-health", "--json", "-e", "redis_health_sample_seconds=0"],
        ),
        "queue-backlog": (
            [cli + ["-n", "11", "LLEN", QUEUE]],
            [opsbook, "-q", "run", "queue-backlog", "--json", "-e",
             json.dumps({"queue_backlog_samples": 1, "queue_backlog_db": 11, "queue_backlog_queues": [QUEUE]})],
        ),
    }
    subprocess.run(cli + ["-n", "11", "RPUSH", QUEUE, "job"], capture_output=True, timeout=10, check=True)
    try:
        summary = measure(pairs, args.runs, env)
    finally:
        subprocess.run(cli + ["-n", "11", "DEL", QUEUE], capture_output=True, timeout=10, check=False)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "redis_scenarios.json").write_text(json.dumps(
        {"runs": args.runs, "scenarios": summary, "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
        indent=2) + "\n")


def measure(pairs: dict, runs: int, env: dict) -> dict:
    results: dict[str, dict[str, list[float]]] = {n: {"anchors": [], "opsbook": []} for n in pairs}
    for _ in range(runs):
        for name, (anchors, subject) in pairs.items():
            results[name]["anchors"].append(sum(timed(cmd) for cmd in anchors))
            results[name]["opsbook"].append(timed(subject, env))
    summary = {}
    for name, times in results.items():
        anchor, ours = statistics.median(times["anchors"]), statistics.median(times["opsbook"])
        summary[name] = {"anchors_s": anchor, "opsbook_s": ours, "ratio": ours / anchor}
        print(f"{name:<14} redis-cli {anchor:6.3f}s  opsbook {ours:6.3f}s  ratio {ours / anchor:5.1f}")
    return summary


if __name__ == "__main__":
    main()
