"""Drill: `opsbook run saturation` on the lab - a CPU burner and a memory hog on the lab machine (the injected
fault: subprocesses bounded in time and size, killed in finally) push CPU and memory over lowered thresholds;
every reported value equals Prometheus's own answer to the same PromQL at the same evaluation time, and the lab
broker's JVM heap and log-dir size are reported per broker (the JMX exporter agent, job kafka-jmx).

The lab's Prometheus scrapes its node exporter (job ``node``) every second. The burner is one thread pinned to
CPU 0 (at most 8 s): that core has no idle time while it runs, whatever else the shared machine does, so the
check is per (instance, cpu) over a 5 s window.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.prometheus import promql
from tests.integration.prom_seed import prom_query, wait_for_scrape
from tests.integration.scenario_lab import run_scenario

pytestmark = pytest.mark.lab

BURN_SECONDS = 8
HOG_BYTES = 1 << 30  # 1 GiB, every page written
HOG_SECONDS = 20

BURNER = """
import os, time
os.sched_setaffinity(0, {0})
end = time.monotonic() + %d
while time.monotonic() < end:
    pass
""" % BURN_SECONDS

HOG = """
import sys, time
block = bytearray(%d)
block[::4096] = b"\\x01" * (len(block) // 4096)  # touch every page: resident, not only reserved
print("ready", flush=True)
time.sleep(%d)
""" % (HOG_BYTES, HOG_SECONDS)


def _start(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def _stop(*procs) -> None:
    for proc in procs:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def _series(result: list[dict], labels) -> dict[str, float]:
    """``{target: value}`` of a Prometheus answer, the target named as prometheus_query names it."""
    return {", ".join(f"{k}={r['metric'][k]}" for k in labels if k in r["metric"]): float(r["value"][1])
            for r in result}


def _reported(report, check) -> dict[str, dict]:
    return {f["target"]: f for f in report["findings"] if f["check"] == check}


def test_cpu_burner_and_memory_hog_push_saturation_over_the_thresholds(tmp_path, prometheus_lab, kafka_params):
    prom = prometheus_lab["url"]
    assert {"node", "kafka-jmx"} <= set(prometheus_lab["jobs"])
    node = 'job="node"'
    # the broker's agent is scraped (a broker an older lab started has none: restart it)
    wait_for_scrape(prom, 'up{job="kafka-jmx"} == 1', bool, timeout=20)
    memory_query = promql.saturation_queries(node_selector=node, checks=["memory_usage"])[0]["query"]
    before = float(prom_query(prom, memory_query)[0]["value"][1])
    hog = burner = None
    try:
        hog = _start(HOG)
        assert hog.stdout.readline().strip() == "ready"
        burner = _start(BURNER)
        started = time.time()
        time.sleep(6.5)  # the 5 s window ending at `at` lies inside the burn
        at = round(time.time() - 0.5, 3)  # scraped by now (1 s interval)
        assert at - started > 5.5
        memory_at = float(prom_query(prom, memory_query, at=at)[0]["value"][1])
        # the hog is 1 GiB of this machine's memory: memory use rose by at least half of it
        total = float(prom_query(prom, "node_memory_MemTotal_bytes{%s}" % node)[0]["value"][1])
        hog_pct = 100.0 * HOG_BYTES / total
        assert memory_at > before + hog_pct / 2, (before, memory_at, hog_pct)
        settings = {
            "saturation_time": str(at), "saturation_window": "5s", "saturation_node_selector": node,
            "saturation_node_group_by": ["instance", "cpu"],
            "saturation_cpu_warn_pct": 97, "saturation_cpu_crit_pct": 100.5,
            # lowered to the level before the hog plus half of it: over only with the hog
            "saturation_memory_warn_pct": round(before + hog_pct / 2, 3), "saturation_memory_crit_pct": 100,
            "saturation_jvm_selector": 'job="kafka-jmx"',
        }
        proc, report = run_scenario(tmp_path, "saturation", settings)
    finally:
        _stop(burner, hog)
    assert report["scenario"] == "saturation"

    # CPU: the pinned core is over 97 %, and every core's value is Prometheus's answer at `at`
    cpu_query = promql.saturation_queries(window="5s", node_selector=node, node_group_by=["instance", "cpu"],
                                          checks=["cpu_usage"])[0]["query"]
    expected_cpu = _series(prom_query(prom, cpu_query, at=at), ["cpu", "instance"])
    cpu = _reported(report, "cpu_usage")
    assert sorted(cpu) == sorted(expected_cpu) and len(cpu) == os.cpu_count()
    assert {t: f["value"] for t, f in cpu.items()} == pytest.approx(expected_cpu, abs=0.01)
    core0 = next(f for t, f in cpu.items() if t.startswith("cpu=0,"))
    assert core0["status"] in ("warning", "critical") and core0["value"] >= 97, core0
    assert core0["threshold"] == {"warn": 97, "crit": 100.5, "direction": "above"}

    # memory: over the lowered threshold, equal to Prometheus's answer at `at`
    [memory] = _reported(report, "memory_usage").values()
    assert memory["status"] == "warning", memory
    assert memory["value"] == pytest.approx(memory_at, abs=0.01)

    # JVM heap and log-dir size per broker: the lab's one broker, by its agent's job and instance
    jvm_query = promql.saturation_queries(jvm_selector='job="kafka-jmx"', checks=["jvm_heap_usage"])[0]["query"]
    expected_heap = _series(prom_query(prom, jvm_query, at=at), ["instance", "job"])
    heap = _reported(report, "jvm_heap_usage")
    assert list(heap) == list(expected_heap) and len(heap) == 1
    [(target, finding)] = heap.items()
    assert target.endswith("job=kafka-jmx") and finding["value"] == pytest.approx(expected_heap[target], abs=0.01)
    assert 0 < finding["value"] < 100 and finding["status"] == "ok"
    [log_size] = _reported(report, "kafka_log_dir_size").values()
    assert log_size["target"] == target and log_size["value"] > 0 and log_size["unit"] == "B"

    # the disks are judged against the seed's 80/90 %, per mount point
    assert {f["threshold"]["warn"] for f in _reported(report, "disk_usage").values()} == {80}
    # the faults were the injection: once they are killed, the lab's memory comes back under the lowered threshold
    recovered = wait_for_scrape(prom, memory_query, lambda r: float(r[0]["value"][1]) < settings[
        "saturation_memory_warn_pct"], timeout=20)
    assert recovered
    assert proc.returncode in (1, 2), proc.stderr  # action needed: warning or critical


def test_health_check_runs_the_saturation_checks_when_prometheus_is_configured(tmp_path, prometheus_lab):
    """The lab inventory turns them off (a shared machine); switched on, health-check reports them too."""
    proc, report = run_scenario(tmp_path, "health-check", {"health_check_saturation": True,
                                                           "saturation_checks": ["memory_usage"],
                                                           "saturation_memory_warn_pct": 99.5,
                                                           "saturation_memory_crit_pct": 99.9})
    memory = _reported(report, "memory_usage")
    assert len(memory) == 1 and next(iter(memory.values()))["status"] == "ok", report["findings"]
    proc, report = run_scenario(tmp_path, "health-check", {})
    assert _reported(report, "memory_usage") == {}
