#!/usr/bin/env python3
"""Benchmark: `opsbook run health-check` against the lab vs the anchor tools an SRE runs by hand.

Anchors (the runbooks' copy-paste sequence, same machine, same run):
  psql -c "SELECT version(), count(*) FROM pg_stat_activity"
  redis-cli INFO
  Kafka's own BrokerApiVersionsCommand (kafka-broker-api-versions) from the lab's jars
Prints per-step medians and the ratio opsbook / anchors; writes bench/results/health_check.json.
No thresholds: this reports, it does not judge. Usage: .venv/bin/python bench/health_check.py [-n RUNS]
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

HERE = Path(__file__).resolve().parent

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.labinfo import read_state


def timed(cmd: list[str], env: dict | None = None) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed (rc {proc.returncode}): {proc.stderr.strip()[-300:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=5, help="runs per command (median reported)")
    args = parser.parse_args()
    state = read_state(with_secrets=True)["services"]
    pg, rd, kf = state["postgres"], state["redis"], state["kafka"]
    opsbook = str(Path(sys.executable).with_name("opsbook"))
    anchors = {
        "psql": ([pg["tools"]["psql"], "-h", pg["host"], "-p", str(pg["port"]), "-U", pg["user"], "-d", pg["database"],
                  "-Atc", "SELECT version(), count(*) FROM pg_stat_activity"],
                 dict(os.environ, PGPASSWORD=pg["password"])),
        "redis-cli": ([rd["tools"]["redis-cli"], "-h", rd["host"], "-p", str(rd["port"]), "--user", rd["user"],
                       "--pass", rd["password"], "--no-auth-warning", "INFO"], None),
        "kafka-broker-api-versions": ([kf["java"], "-Xmx256m", f"-Dlog4j2.configurationFile={kf['log4j_config']}",
                                       "-cp", kf["classpath"], "org.apache.kafka.tools.BrokerApiVersionsCommand",
                                       "--bootstrap-server", kf["bootstrap_servers"][0]], None),
    }
    subject = ([opsbook, "-q", "run", "health-check", "--json"], dict(os.environ, NO_COLOR="1"))
    results: dict[str, list[float]] = {name: [] for name in anchors}
    results["opsbook health-check"] = []
    for _ in range(args.runs):  # interleaved so drift hits both sides alike
        for name, (cmd, env) in anchors.items():
            results[name].append(timed(cmd, env))
        results["opsbook health-check"].append(timed(*subject))
    medians = {name: statistics.median(times) for name, times in results.items()}
    anchor_total = sum(medians[name] for name in anchors)
    ratio = medians["opsbook health-check"] / anchor_total
    for name, median in medians.items():
        print(f"{name:<28} median {median:6.3f}s  (runs: {', '.join(f'{t:.3f}' for t in results[name])})")
    print(f"{'anchors together':<28} median {anchor_total:6.3f}s")
    print(f"ratio opsbook / anchors: {ratio:.2f}  (opsbook also evaluates thresholds and renders one report)")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "health_check.json").write_text(json.dumps(
        {"runs": args.runs, "medians_s": medians, "anchors_total_s": anchor_total, "ratio": ratio,
         "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=2) + "\n")


if __name__ == "__main__":
    main()
