"""pg_health, redis_health and kafka_cluster_info against the lab's real services."""

from __future__ import annotations

import psycopg2
import pytest
import redis

from tests.helpers import closed_port, run_module


def by_check(result):
    return {f["check"]: f for f in result["findings"]}


def test_pg_health_reports_real_server(pg_params):
    # the current-state checks the health check runs; cumulative statistics of the shared lab
    # (pg_stat_statements means, ...) are exercised in test_pg_health_drills.py
    result = run_module("pg_health", dict(pg_params, scope="database", checks=[
        "connections", "long_queries", "blocked", "lock_waits", "xid_age", "replication"]))
    assert result["status"] == "ok", result["findings"]
    with psycopg2.connect(host=pg_params["host"], port=pg_params["port"], user=pg_params["user"],
                          password=pg_params["password"], dbname=pg_params["database"]) as conn:
        with conn.cursor() as cur:
            cur.execute("SHOW server_version")
            assert result["version"] == cur.fetchone()[0]
            cur.execute("SHOW max_connections")
            assert result["connections"]["max_connections"] == int(cur.fetchone()[0])
    assert result["pg_stat_statements"]
    assert by_check(result)["postgres_reachable"]["status"] == "ok"


def test_pg_health_pool_size_changes_the_verdict(pg_params):
    # two of our own connections held open against a pool of 2 -> at least 100 %
    conns = [psycopg2.connect(host=pg_params["host"], port=pg_params["port"], user=pg_params["user"],
                              password=pg_params["password"], dbname=pg_params["database"]) for _ in range(2)]
    try:
        result = run_module("pg_health", dict(pg_params, pool_size=2))
    finally:
        for conn in conns:
            conn.close()
    finding = by_check(result)["postgres_connection_utilization"]
    assert finding["status"] == "critical"
    assert finding["value"] >= 100


def test_pg_health_wrong_password_is_a_finding_without_the_password(pg_params):
    result = run_module("pg_health", dict(pg_params, password="not-the-password-xyz"))
    assert not result.get("failed")
    assert result["status"] == "critical"
    finding = by_check(result)["postgres_reachable"]
    assert "password authentication failed" in finding["message"]
    assert "not-the-password-xyz" not in str(result)


def test_pg_health_unreachable_is_critical_within_timeout(pg_params):
    result = run_module("pg_health", dict(pg_params, port=closed_port(), connect_timeout=2))
    assert result["status"] == "critical"
    assert result["reachable"] is False
    assert "cannot connect to PostgreSQL" in result["findings"][0]["message"]
    assert result["duration"] < 10


def test_redis_health_reports_real_server(redis_params):
    client = redis.Redis(host=redis_params["host"], port=redis_params["port"],
                         username=redis_params["username"], password=redis_params["password"])
    result = run_module("redis_health", redis_params)
    assert result["status"] in ("ok", "warning"), result["findings"]
    assert result["version"] == client.info("server")["redis_version"]
    assert by_check(result)["redis_reachable"]["status"] == "ok"


def test_redis_health_hit_rate_matches_info_counters(redis_params):
    client = redis.Redis(host=redis_params["host"], port=redis_params["port"],
                         username=redis_params["username"], password=redis_params["password"])
    client.config_resetstat()
    client.set("opsbook:test:hit", "1")
    for _ in range(3):
        client.get("opsbook:test:hit")
    for i in range(7):
        client.get(f"opsbook:test:miss:{i}")
    try:
        result = run_module("redis_health", redis_params)
        only = run_module("redis_health", dict(redis_params, checks=["hit_rate"], sample_seconds=0))
        stats = client.info("stats")
    finally:
        client.config_resetstat()  # leave the shared lab healthy for the next test
    expected = round(100.0 * stats["keyspace_hits"] / (stats["keyspace_hits"] + stats["keyspace_misses"]), 2)
    finding = by_check(result)["redis_hit_rate"]
    assert finding["value"] == expected
    assert finding["status"] == "critical"  # 30 % is far below the seed's 95 %
    # checks: [hit_rate] judges only the hit rate (what the api-latency scenario asks of the cache)
    assert [f["check"] for f in only["findings"]] == ["redis_reachable", "redis_hit_rate"]
    assert by_check(only)["redis_hit_rate"]["value"] == expected and only["status"] == "critical"
    client.delete("opsbook:test:hit")


def test_redis_health_wrong_password_is_critical_and_scrubbed(redis_params):
    result = run_module("redis_health", dict(redis_params, password="wrong-secret-123"))
    assert result["status"] == "critical"
    assert "wrong-secret-123" not in str(result)


def test_redis_health_unreachable(redis_params):
    result = run_module("redis_health", dict(redis_params, port=closed_port(), connect_timeout=1))
    assert result["status"] == "critical"
    assert "Connection refused" in result["findings"][0]["message"]


def test_kafka_cluster_info_reports_real_cluster(kafka_params):
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": ",".join(kafka_params["bootstrap_servers"])})
    metadata = admin.list_topics(timeout=10)
    result = run_module("kafka_cluster_info", kafka_params)
    assert result["status"] == "ok", result["findings"]
    assert result["cluster_id"] == metadata.cluster_id
    assert [b["id"] for b in result["brokers"]] == sorted(metadata.brokers)
    assert result["controller_id"] == metadata.controller_id


def test_kafka_cluster_info_unreachable_within_timeout(kafka_params):
    result = run_module("kafka_cluster_info", dict(kafka_params, bootstrap_servers=[f"127.0.0.1:{closed_port()}"],
                                                   request_timeout=2))
    assert result["status"] == "critical"
    assert "cannot reach Kafka" in result["findings"][0]["message"]
    assert result["duration"] < 10


def test_bad_option_is_a_clear_failure(pg_params):
    result = run_module("pg_health", dict(pg_params, sslmode="sometimes"))
    assert result["failed"]
    assert "sslmode" in result["msg"] and "sometimes" in result["msg"]
