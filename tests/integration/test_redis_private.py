"""Drills that would harm the shared lab Redis run on private, real redis-server processes.

Evictions (allkeys-lru would evict other engineers' keys) and replication (a replica, then
its master killed) get their own throwaway servers on free loopback ports, stopped afterwards.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
import redis

from tests.helpers import closed_port, run_module

REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is installed by `opsbook lab up`")


def by_check(result):
    return {f["check"]: f for f in result["findings"]}


def wait_until(predicate, seconds=15.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if predicate():
                return True
        except redis.ConnectionError:
            pass
        time.sleep(0.1)
    return False


@pytest.fixture
def private_redis(tmp_path):
    """Start real redis-server processes: ``start(*extra_args) -> (port, client)``; all stopped afterwards."""
    procs = []

    def start(*args):
        port = closed_port()
        workdir = tmp_path / str(port)
        workdir.mkdir()
        proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir), "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--logfile", str(workdir / "redis.log"), *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        procs.append(proc)
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
        assert wait_until(client.ping), f"redis-server on {port} did not start"
        return port, client, proc

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_evictions_are_reported_with_the_server_count(private_redis):
    port, client, _ = private_redis("--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru")
    blob = "x" * 10_000
    for i in range(400):  # 4 MB into 2 MB: LRU must evict
        client.set(f"redist:evict:{i}", blob)
    client.config_set("maxmemory", 0)  # stop evicting so the counters hold still for the comparison
    result = run_module("redis_health", {"host": "127.0.0.1", "port": port, "sample_seconds": 0})
    stats = client.info("stats")
    finding = by_check(result)["redis_evictions"]
    assert stats["evicted_keys"] > 0
    assert finding["value"] == result["evicted_keys"] == stats["evicted_keys"]
    assert finding["status"] == "warning"
    assert "policy allkeys-lru" in finding["message"]
    assert result["memory"]["maxmemory_policy"] == "allkeys-lru"
    assert result["memory"]["basis"] == "system memory"
    assert result["keyspace"]["db0"]["keys"] == client.dbsize() < 400


def test_replica_online_then_master_lost(private_redis):
    master_port, master, master_proc = private_redis("--repl-diskless-sync-delay", "0")
    replica_port, replica, _ = private_redis("--replicaof", "127.0.0.1", str(master_port))
    assert wait_until(lambda: replica.info("replication")["master_link_status"] == "up")
    master.set("redist:repl", "1")
    assert wait_until(lambda: replica.get("redist:repl") == b"1")

    on_master = run_module("redis_health", {"host": "127.0.0.1", "port": master_port, "sample_seconds": 0})
    rep = on_master["replication"]
    assert rep["role"] == "master" and rep["connected_replicas"] == 1
    assert rep["replicas"][0]["address"] == f"127.0.0.1:{replica_port}"
    assert rep["replicas"][0]["state"] == "online"
    assert by_check(on_master)["redis_replication"]["status"] == "ok"

    on_replica = run_module("redis_health", {"host": "127.0.0.1", "port": replica_port, "sample_seconds": 0})
    assert on_replica["role"] == "slave"
    assert on_replica["replication"]["link_status"] == "up"
    assert on_replica["replication"]["master"] == f"127.0.0.1:{master_port}"
    assert on_replica["replication"]["offset_lag_bytes"] >= 0
    assert by_check(on_replica)["redis_replication"]["status"] == "ok"

    master_proc.terminate()
    master_proc.wait(timeout=10)
    assert wait_until(lambda: replica.info("replication")["master_link_status"] == "down")
    lost = run_module("redis_health", {"host": "127.0.0.1", "port": replica_port, "sample_seconds": 0})
    finding = by_check(lost)["redis_replication"]
    assert finding["status"] == "critical"
    assert finding["message"].startswith(f"replica's link to master 127.0.0.1:{master_port} is down")
    assert lost["status"] == "critical"


def test_flushdb_confirmed_empties_only_that_database(private_redis):
    port, client, _ = private_redis()
    db2 = redis.Redis(host="127.0.0.1", port=port, db=2)
    db2.mset({"redist:a": 1, "redist:b": 2, "redist:c": 3})
    client.set("redist:keep", "1")  # database 0
    args = {"host": "127.0.0.1", "port": port, "db": 2, "flushdb": True, "confirm": "db2"}
    dry = run_module("redis_queue", args, check_mode=True)
    assert dry["actions"][0]["detail"] == "would delete all 3 keys of database 2 (FLUSHDB)"
    assert db2.dbsize() == 3
    done = run_module("redis_queue", args)
    assert done["changed"] is True and done["actions"][0]["dry_run"] is False
    assert done["actions"][0]["detail"] == "deleted all 3 keys of database 2 (FLUSHDB)"
    assert db2.dbsize() == 0 and client.get("redist:keep") == b"1"
    assert run_module("redis_queue", args)["changed"] is False  # nothing left: idempotent
