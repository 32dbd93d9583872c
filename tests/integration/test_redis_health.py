"""redis_health drills against the lab's real Redis, and the INFO filter against redis-cli.

Keys are `redist:<random>:*` in database 11 and are deleted afterwards; every test that
touches server-wide state (stats counters, maxmemory, slowlog threshold) restores it
in a `finally`, so the shared lab's health check stays OK.
"""

from __future__ import annotations

import os
import subprocess
import threading

import redis

from ansible_collections.opsbook.runbooks.plugins.filter.redis import redis_findings, redis_info_filter
from tests.helpers import REDIS_TEST_DB, closed_port, run_module

DB = REDIS_TEST_DB


def by_check(result):
    return {f["check"]: f for f in result["findings"]}


def redis_cli(redis_params, *args):
    """The real redis-cli, authenticated as the lab's ACL user."""
    env = dict(os.environ, REDISCLI_AUTH=redis_params["password"])
    proc = subprocess.run(
        ["redis-cli", "-h", redis_params["host"], "-p", str(redis_params["port"]), "--user",
         redis_params["username"], *args],
        capture_output=True, text=True, timeout=20, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_module_and_filter_agree_on_the_same_server(redis_params, redis_client, redis_prefix):
    redis_client.set(redis_prefix + "a", "1")
    redis_client.set(redis_prefix + "b", "2", ex=3600)
    module = run_module("redis_health", dict(redis_params, sample_seconds=0))
    text = redis_cli(redis_params, "INFO")
    parsed = redis_info_filter(text)
    from_text = redis_findings(parsed, target=module["target"])
    assert parsed["redis_version"] == module["version"] == redis_client.info("server")["redis_version"]
    assert parsed["tcp_port"] == redis_params["port"]
    for key in ("role", "version", "keyspace"):
        if key == "keyspace":
            assert from_text[key][f"db{DB}"]["keys"] == module[key][f"db{DB}"]["keys"]
            assert from_text[key][f"db{DB}"]["expires"] == module[key][f"db{DB}"]["expires"]
        else:
            assert from_text[key] == module[key]
    for key in ("maxmemory_bytes", "maxmemory_policy", "total_system_bytes", "basis"):
        assert from_text["memory"][key] == module["memory"][key], key
    assert from_text["persistence"]["rdb_last_save_time"] == module["persistence"]["rdb_last_save_time"]
    assert from_text["clients"]["maxclients"] == module["clients"]["maxclients"]
    assert from_text["replication"] == module["replication"]
    stable = ("redis_memory_usage", "redis_persistence", "redis_replication", "redis_clients", "redis_evictions")
    assert {c: by_check(from_text)[c]["status"] for c in stable} == {c: by_check(module)[c]["status"] for c in stable}


def test_keyspace_counts_per_db_match_info(redis_params, redis_client, redis_prefix):
    redis_client.set(redis_prefix + "k1", "v")
    redis_client.set(redis_prefix + "k2", "v")
    redis_client.set(redis_prefix + "k3", "v", ex=600)
    result = run_module("redis_health", dict(redis_params, sample_seconds=0))
    info = redis_client.info("keyspace")[f"db{DB}"]
    assert result["keyspace"][f"db{DB}"]["keys"] == info["keys"] >= 3
    assert result["keyspace"][f"db{DB}"]["expires"] == info["expires"] >= 1


def test_misses_lower_the_hit_rate_lifetime_and_window(redis_params, redis_client, redis_prefix):
    stop = threading.Event()

    def lookups():
        # 1 hit for every 19 misses, bounded in count and time
        for i in range(20000):
            if stop.is_set():
                break
            redis_client.get(redis_prefix + "hit")
            for j in range(19):
                redis_client.get(f"{redis_prefix}miss:{j}")

    redis_client.set(redis_prefix + "hit", "1")
    redis_client.config_resetstat()
    try:
        for _ in range(3):
            redis_client.get(redis_prefix + "hit")
        for i in range(7):
            redis_client.get(f"{redis_prefix}miss:{i}")
        lifetime = run_module("redis_health", dict(redis_params, sample_seconds=0))
        stats = redis_client.info("stats")
        worker = threading.Thread(target=lookups, daemon=True)
        worker.start()
        try:
            windowed = run_module("redis_health", dict(redis_params, sample_seconds=1))
        finally:
            stop.set()
            worker.join(timeout=30)
    finally:
        redis_client.config_resetstat()  # leave the shared lab's counters healthy
    expected = round(100.0 * stats["keyspace_hits"] / (stats["keyspace_hits"] + stats["keyspace_misses"]), 2)
    finding = by_check(lifetime)["redis_hit_rate"]
    assert finding["value"] == expected == lifetime["hit_rate"]["lifetime_pct"]
    assert lifetime["hit_rate"]["keyspace_hits"] == stats["keyspace_hits"]
    assert finding["status"] == "critical"  # about 30 %, far below the seed's 95 %
    assert "at or below the critical threshold of 80%" in finding["message"]

    window = windowed["window"]
    assert window["keyspace_misses"] > 0
    assert window["hit_rate_pct"] == round(
        100.0 * window["keyspace_hits"] / (window["keyspace_hits"] + window["keyspace_misses"]), 2)
    win = by_check(windowed)["redis_hit_rate_window"]
    assert win["value"] == window["hit_rate_pct"] == windowed["hit_rate"]["window_pct"]
    assert win["value"] < 95 and win["status"] in ("warning", "critical")
    assert window["ops_per_sec"] > 0


def test_low_maxmemory_is_a_memory_finding_and_is_restored(redis_params, redis_client, redis_prefix):
    original = redis_client.config_get("maxmemory")["maxmemory"]
    policy = redis_client.config_get("maxmemory-policy")["maxmemory-policy"]
    try:
        used = redis_client.info("memory")["used_memory"]
        limit = used + 400_000
        redis_client.config_set("maxmemory-policy", "noeviction")
        redis_client.config_set("maxmemory", limit)
        blob = "x" * 10_000
        for i in range(60):  # bounded fill, stop at 92 % or when Redis refuses (OOM)
            if redis_client.info("memory")["used_memory"] >= 0.92 * limit:
                break
            try:
                redis_client.set(f"{redis_prefix}fill:{i}", blob)
            except redis.exceptions.OutOfMemoryError:
                break
        result = run_module("redis_health", dict(redis_params, sample_seconds=0, slowlog_count=0))
    finally:
        keys = list(redis_client.scan_iter(match=redis_prefix + "*", count=1000))
        if keys:
            redis_client.delete(*keys)
        redis_client.config_set("maxmemory", original)
        redis_client.config_set("maxmemory-policy", policy)
    assert redis_client.config_get("maxmemory")["maxmemory"] == original == "0"
    finding = by_check(result)["redis_memory_usage"]
    assert result["memory"]["maxmemory_bytes"] == limit
    assert result["memory"]["basis"] == "maxmemory"
    assert finding["status"] == "critical", finding
    assert finding["value"] == round(100.0 * result["memory"]["used_bytes"] / limit, 2) >= 90
    assert "memory use (of maxmemory)" in finding["message"]


def test_slowlog_entries_match_slowlog_get(redis_params, redis_client, redis_prefix):
    threshold = redis_client.config_get("slowlog-log-slower-than")["slowlog-log-slower-than"]
    marker = redis_prefix + "slow"
    try:
        redis_client.config_set("slowlog-log-slower-than", 0)  # log everything for a moment
        redis_client.echo(marker)
    finally:
        redis_client.config_set("slowlog-log-slower-than", threshold)
    entries = {e["id"]: e for e in redis_client.slowlog_get(128)}
    result = run_module("redis_health", dict(redis_params, sample_seconds=0, slowlog_count=128))
    ours = [e for e in result["slowlog"] if marker in e["command"]]
    assert len(ours) == 1
    assert ours[0]["command"] == f"ECHO {marker}"
    assert ours[0]["duration_ms"] == round(entries[ours[0]["id"]]["duration"] / 1000.0, 3)
    durations = [e["duration_ms"] for e in result["slowlog"]]
    assert durations == sorted(durations, reverse=True)
    assert by_check(result)["redis_slowlog"]["value"] == durations[0]


def test_persistence_and_replication_of_the_lab(redis_params, redis_client):
    result = run_module("redis_health", dict(redis_params, sample_seconds=0))
    info = redis_client.info("persistence")
    assert result["persistence"]["rdb_last_bgsave_status"] == info["rdb_last_bgsave_status"] == "ok"
    assert result["persistence"]["aof_enabled"] is False
    assert result["replication"] == {"role": "master", "connected_replicas": 0, "replicas": [], "lag_seconds": None}
    assert by_check(result)["redis_persistence"]["status"] == "ok"


def test_bad_sample_window_names_the_option(redis_params):
    result = run_module("redis_health", dict(redis_params, sample_seconds=600))
    assert result["failed"]
    assert result["msg"] == "sample_seconds must be between 0 and 60, got 600.0"


def test_unreachable_within_timeout_does_not_sample(redis_params):
    result = run_module("redis_health", dict(redis_params, port=closed_port(), connect_timeout=1, sample_seconds=30))
    assert result["status"] == "critical"
    assert result["reachable"] is False
    assert result["duration"] < 10


PLAYBOOK = """
- name: A site that only has redis-cli
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Run redis-cli INFO
      ansible.builtin.command: redis-cli -h {{ host }} -p {{ port }} INFO
      register: info_out
      changed_when: false
    - name: Parse and judge it with the filters
      ansible.builtin.copy:
        content: "{{ info_out.stdout | opsbook.runbooks.redis_info | opsbook.runbooks.redis_findings(hit_rate_warn_pct=90)
                     | to_json }}"
        dest: "{{ out }}"
        mode: "0600"
"""


def test_filters_in_a_real_playbook_agree_with_the_module(redis_params, redis_client, redis_prefix, tmp_path):
    import json
    import sys
    from pathlib import Path

    redis_client.set(redis_prefix + "pb", "1")
    redis_client.get(redis_prefix + "pb")  # a keyspace hit, so the hit rate is measured (and stays healthy)
    playbook, out = tmp_path / "info.yml", tmp_path / "judged.json"
    playbook.write_text(PLAYBOOK)
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", "-c", "local", str(playbook),
         "-e", f"host={redis_params['host']} port={redis_params['port']} out={out}",
         "-e", f"ansible_python_interpreter={sys.executable}"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    judged = json.loads(out.read_text())
    module = run_module("redis_health", dict(redis_params, sample_seconds=0, hit_rate_warn_pct=90))
    assert judged["version"] == module["version"]
    assert judged["keyspace"][f"db{DB}"]["keys"] == module["keyspace"][f"db{DB}"]["keys"]
    assert judged["memory"]["maxmemory_bytes"] == module["memory"]["maxmemory_bytes"]
    stable = ("redis_memory_usage", "redis_persistence", "redis_replication", "redis_evictions")
    assert {c: by_check(judged)[c]["status"] for c in stable} == {c: by_check(module)[c]["status"] for c in stable}
    hit = by_check(judged)["redis_hit_rate"]
    assert hit["value"] is None or hit["threshold"]["warn"] == 90  # the filter's keyword reached the check
