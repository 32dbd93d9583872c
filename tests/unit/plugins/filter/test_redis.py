"""redis_info / redis_findings filters on real INFO text.

The fixtures are `redis-cli INFO` output captured from Redis 7.0.15 on this machine
(CRLF line ends as redis-cli prints them): the lab server (`INFO everything`), and a
private master (AOF on) with a replica, online and still syncing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.opsbook.runbooks.plugins.filter.redis import FilterModule
from ansible_collections.opsbook.runbooks.plugins.module_utils.redis import info as redis_info

FIXTURES = Path(__file__).parent / "fixtures"


def text(name):
    return (FIXTURES / f"redis_7.0_info_{name}.txt").read_bytes().decode()


@pytest.fixture
def filters():
    return FilterModule().filters()


def by_check(result):
    return {f["check"]: f for f in result["findings"]}


@pytest.mark.parametrize(
    "fixture, key, expected",
    [
        ("everything", "redis_version", "7.0.15"),
        ("everything", "used_memory", 1042792),
        ("everything", "mem_fragmentation_ratio", 7.26),
        ("everything", "used_memory_peak_perc", "95.91%"),
        ("everything", "os", "Linux 6.18.44-fc-v657 x86_64"),
        ("everything", "maxmemory_policy", "noeviction"),
        ("everything", "errorstat_WRONGPASS", {"count": 1}),
        ("everything", "cmdstat_info", {"calls": 2, "usec": 107, "usec_per_call": 53.5, "rejected_calls": 0,
                                        "failed_calls": 0}),
        ("everything", "latency_percentiles_usec_info", {"p50": 16.063, "p99": 91.135, "p99.9": 91.135}),
        ("master_aof_replica", "slave0", {"ip": "127.0.0.1", "port": 17902, "state": "online", "offset": 144,
                                          "lag": 1}),
        ("master_aof_replica", "db3", {"keys": 1, "expires": 1, "avg_ttl": 999235}),
        ("replica", "master_link_status", "up"),
        ("replica", "role", "slave"),
    ],
)
def test_parse_info_values(filters, fixture, key, expected):
    assert filters["redis_info"](text(fixture))[key] == expected


def test_parse_info_matches_redis_py_parser():
    from redis._parsers.helpers import parse_info as redis_py_parse

    for name in ("everything", "master_aof_replica", "replica", "replica_syncing"):
        raw = text(name)
        assert redis_info.parse_info(raw) == redis_py_parse(raw), name


def test_parse_info_sections(filters):
    sections = filters["redis_info"](text("everything"), sections=True)
    assert sections["server"]["tcp_port"] == 16379
    assert sections["memory"]["maxmemory"] == 0
    assert sections["keyspace"] == {}
    assert "cmdstat_info" in sections["commandstats"]


@pytest.mark.parametrize("bad", ["", "Could not connect to Redis at 127.0.0.1:6379: Connection refused", 42])
def test_not_info_text_is_a_clear_error(filters, bad):
    with pytest.raises(AnsibleFilterError, match="redis_info: "):
        filters["redis_info"](bad)


def test_findings_from_lab_text(filters):
    result = filters["redis_findings"](filters["redis_info"](text("everything")), target="lab")
    checks = by_check(result)
    assert result["version"] == "7.0.15"
    assert result["memory"]["used_pct"] == round(100.0 * 1042792 / 25276510208, 2)
    assert result["memory"]["basis"] == "system memory"
    # ratio 7.26 but only 6 MB fragmented: a nearly empty server is not judged
    assert checks["redis_fragmentation"]["status"] == "ok"
    assert "ignored" in checks["redis_fragmentation"]["message"]
    assert checks["redis_hit_rate"]["value"] is None
    assert "redis_hit_rate_window" not in checks  # one read: no window
    assert checks["redis_replication"]["message"] == "master with no replicas"
    assert result["keyspace"] == {}
    assert all(f["status"] == "ok" for f in result["findings"])


def test_findings_from_master_with_replica_and_aof(filters):
    result = filters["redis_findings"](text("master_aof_replica"))
    assert result["keyspace"] == {"db0": {"keys": 1, "expires": 0, "avg_ttl": 0},
                                  "db3": {"keys": 1, "expires": 1, "avg_ttl": 999235}}
    assert result["hit_rate"]["lifetime_pct"] == 50.0
    assert by_check(result)["redis_hit_rate"]["status"] == "critical"
    assert result["persistence"]["aof_enabled"] is True
    assert result["persistence"]["aof_last_write_status"] == "ok"
    rep = result["replication"]
    assert rep["replicas"] == [{"address": "127.0.0.1:17902", "state": "online", "lag_seconds": 1,
                                "offset_lag_bytes": 0}]
    assert by_check(result)["redis_replication"]["status"] == "ok"
    assert by_check(result)["redis_replication"]["value"] == 1


def test_master_with_a_replica_still_syncing(filters):
    raw = text("master_aof_replica").replace("state=online", "state=wait_bgsave")
    finding = by_check(filters["redis_findings"](raw))["redis_replication"]
    assert finding["status"] == "warning"
    assert finding["message"] == "replicas not online: 127.0.0.1:17902 wait_bgsave"


def test_replica_link_up_and_syncing(filters):
    up = filters["redis_findings"](text("replica"))
    assert up["replication"]["link_status"] == "up"
    assert up["replication"]["lag_seconds"] == 2
    assert by_check(up)["redis_replication"]["status"] == "ok"
    down = filters["redis_findings"](text("replica_syncing"), replication_lag_warn_seconds=1)
    assert by_check(down)["redis_replication"]["status"] == "critical"
    assert "link to master 127.0.0.1:17901 is down" in by_check(down)["redis_replication"]["message"]


def test_replica_lag_thresholds(filters):
    up = filters["redis_findings"](text("replica"), replication_lag_warn_seconds=2, replication_lag_crit_seconds=5)
    assert by_check(up)["redis_replication"]["status"] == "warning"


@pytest.mark.parametrize(
    "edits, check, status",
    [
        ({"maxmemory": "1300000"}, "redis_memory_usage", "warning"),      # 80.2 %
        ({"maxmemory": "1100000"}, "redis_memory_usage", "critical"),     # 94.8 %
        ({"mem_fragmentation_bytes": "20000000"}, "redis_fragmentation", "critical"),
        ({"mem_fragmentation_bytes": "20000000", "mem_fragmentation_ratio": "1.6"}, "redis_fragmentation", "warning"),
        ({"evicted_keys": "3"}, "redis_evictions", "warning"),
        ({"rdb_last_bgsave_status": "err"}, "redis_persistence", "critical"),
        ({"rdb_changes_since_last_save": "5"}, "redis_persistence", "warning"),
        ({"connected_clients": "9500"}, "redis_clients", "critical"),
        ({"keyspace_hits": "97", "keyspace_misses": "3"}, "redis_hit_rate", "ok"),
        ({"keyspace_hits": "95", "keyspace_misses": "5"}, "redis_hit_rate", "warning"),
    ],
)
def test_thresholds_on_edited_real_text(filters, edits, check, status):
    lines = []
    for line in text("everything").splitlines():
        key = line.split(":", 1)[0]
        lines.append(f"{key}:{edits[key]}" if key in edits else line)
    # rdb_last_save_time is 1795419717; judge the text two days later
    result = filters["redis_findings"]("\r\n".join(lines), persistence_max_age_seconds=86400)
    if check == "redis_persistence" and status == "warning":
        from ansible_collections.opsbook.runbooks.plugins.module_utils.redis import diagnostics as redis_diagnostics

        result = redis_diagnostics.evaluate(redis_info.parse_info("\r\n".join(lines)), {}, now=1795419717 + 2 * 86400)
    assert by_check(result)[check]["status"] == status, by_check(result)[check]["message"]


def test_window_from_two_reads(filters):
    before = redis_info.parse_info(text("everything"))
    after = dict(before, keyspace_hits=90, keyspace_misses=10, total_commands_processed=207, evicted_keys=0)
    result = filters["redis_findings"](after, before=before, elapsed=2.0)
    assert result["window"] == {"seconds": 2.0, "keyspace_hits": 90, "keyspace_misses": 10, "hit_rate_pct": 90.0,
                                "commands": 200, "ops_per_sec": 100.0, "evicted_keys": 0, "expired_keys": 0}
    assert by_check(result)["redis_hit_rate_window"]["status"] == "warning"


def test_unknown_threshold_is_named(filters):
    with pytest.raises(AnsibleFilterError, match="unknown threshold.*hit_rate_pct"):
        filters["redis_findings"](text("everything"), hit_rate_pct=90)
