"""redis_backup / redis_restore against the lab's real Redis (our own db numbers 8-11)."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pytest
import redis

from tests.helpers import lab_state, run_module

from ansible_collections.opsbook.runbooks.plugins.module_utils.backup import common as backup_common

SRC_DB, DST_DB = 8, 9


def client(redis_params, db):
    return redis.Redis(host=redis_params["host"], port=redis_params["port"], username=redis_params["username"],
                       password=redis_params["password"], db=db, socket_timeout=10)


def wait_for_redis(db, seconds=30):
    """The lab is shared: another engineer's drill may be restarting Redis (bounded wait)."""
    deadline = time.time() + seconds
    while True:
        try:
            db.ping()
            return
        except redis.ConnectionError:
            if time.time() > deadline:
                raise
            time.sleep(0.5)


def content(db, key):
    """A key's type and value read with Redis's own commands (DUMP is not canonical for hashtables)."""
    kind = db.type(key).decode()
    read = {"string": db.get, "hash": db.hgetall, "list": lambda k: db.lrange(k, 0, -1), "set": db.smembers,
            "zset": lambda k: db.zrange(k, 0, -1, withscores=True), "stream": db.xrange}[kind]
    return kind, read(key)


@pytest.fixture
def source(redis_params):
    src, dst = client(redis_params, SRC_DB), client(redis_params, DST_DB)
    wait_for_redis(src)
    for db in (src, dst):
        db.flushdb()
    src.set("bkt:str", "olá mundo — ção 日本")
    src.set(b"bkt:bin\xff\x00", b"\x00\x01\x02\xfe")
    src.set("bkt:ttl", "expira", ex=3600)
    src.hset("bkt:hash", mapping={"campo": "valor", "n": 7})
    src.rpush("bkt:list", *[f"item-{i}" for i in range(50)])
    src.sadd("bkt:set", "a", "b", "ç")
    src.zadd("bkt:zset", {"x": 1.5, "y": 2.25})
    src.xadd("bkt:stream", {"evento": "pedido"})
    for i in range(600):  # more than one SCAN/pipeline batch
        src.set(f"bkt:n:{i}", i)
    yield src, dst
    for db in (src, dst):
        db.flushdb()
    src.config_resetstat()  # leave the hit rate healthy for the next test's health check
    # the RDB test persisted these keys: save again so a restart of the shared Redis does not bring them back
    wait_for_redis(src)
    try:
        src.bgsave()
    except redis.ResponseError:
        pass  # a save is already running; it started after the flush


def test_logical_round_trip_into_another_db(redis_params, source, tmp_path):
    src, dst = source
    backup = run_module("redis_backup", dict(redis_params, db=SRC_DB, location=str(tmp_path)))
    assert backup["published"], backup
    details = backup["manifests"]["logical"]["details"]
    assert details["keys"] == src.dbsize() == 608
    restored = run_module("redis_restore", dict(redis_params, db=DST_DB, location=str(tmp_path), label="db8"))
    assert restored["verified"], (restored["problems"], restored["findings"])
    assert restored["keys"] == 608
    assert dst.dbsize() == src.dbsize()
    for key in src.scan_iter(count=1000):
        assert content(dst, key) == content(src, key), key
    assert 3500 < dst.ttl("bkt:ttl") <= 3600
    assert dst.ttl("bkt:str") == -1
    assert [f["status"] for f in restored["findings"]] == ["ok", "ok"]


def test_rdb_copy_after_bgsave(redis_params, source, tmp_path):
    src, _dst = source
    before = src.lastsave()
    backup = run_module("redis_backup", dict(redis_params, db=SRC_DB, location=str(tmp_path), method="rdb",
                                             data_dir=lab_state()["services"]["redis"]["data_dir"]))
    assert backup["published"], backup
    assert src.lastsave() >= before
    manifest = backup["manifests"]["rdb"]
    path = Path(backup["backups"]["rdb"], manifest["details"]["file"])
    assert path.read_bytes()[:5] == b"REDIS"
    assert manifest["files"] == [{"path": path.name, "size": path.stat().st_size,
                                  "sha256": backup_common.sha256_file(path)}]
    refused = run_module("redis_restore", dict(redis_params, db=DST_DB, backup=backup["backups"]["rdb"]))
    assert refused["failed"] and refused["msg"].startswith("backup:")


def test_corrupt_export_is_refused(redis_params, source, tmp_path):
    _src, dst = source
    backup = run_module("redis_backup", dict(redis_params, db=SRC_DB, location=str(tmp_path)))
    path = Path(backup["backup"], "keys.jsonl.gz")
    data = bytearray(path.read_bytes())
    data[-10] ^= 0x40
    path.write_bytes(bytes(data))
    restored = run_module("redis_restore", dict(redis_params, db=DST_DB, backup=backup["backup"]))
    assert restored["restored"] is False
    assert restored["findings"][0]["status"] == "critical"
    assert "keys.jsonl.gz does not match its SHA-256" in restored["findings"][0]["message"]
    assert dst.dbsize() == 0


def test_existing_keys_need_replace_with_confirmation(redis_params, source, tmp_path):
    src, dst = source
    backup = run_module("redis_backup", dict(redis_params, db=SRC_DB, location=str(tmp_path), match="bkt:h*"))
    assert backup["manifests"]["logical"]["details"]["keys"] == 1
    dst.hset("bkt:hash", "campo", "outro")
    clash = run_module("redis_restore", dict(redis_params, db=DST_DB, backup=backup["backup"]))
    assert clash["failed"] and clash["msg"].startswith("replace:")
    target = f"{redis_params['host']}:{redis_params['port']}/{DST_DB}"
    unconfirmed = run_module("redis_restore", dict(redis_params, db=DST_DB, backup=backup["backup"], replace=True))
    assert unconfirmed["failed"] and unconfirmed["msg"].startswith("confirm:")
    done = run_module("redis_restore", dict(redis_params, db=DST_DB, backup=backup["backup"], replace=True,
                                            confirm=target))
    assert done["verified"]
    assert dst.hget("bkt:hash", "campo") == b"valor"


def test_verification_detects_a_changed_key(redis_params, source, tmp_path):
    """A per-key digest that does not match what RESTORE produced is critical (manifest re-hashed)."""
    _src, dst = source
    backup = run_module("redis_backup", dict(redis_params, db=SRC_DB, location=str(tmp_path), match="bkt:s*"))
    path = Path(backup["backup"], "keys.jsonl.gz")
    lines = [json.loads(line) for line in gzip.decompress(path.read_bytes()).decode().splitlines()]
    assert len(lines) == 3
    lines[0]["d"] = "0" * 64
    path.write_bytes(gzip.compress("".join(json.dumps(line) + "\n" for line in lines).encode()))
    manifest_path = Path(backup["backup"], "manifest.json")
    manifest = json.loads(manifest_path.read_text())
    manifest["files"] = backup_common.file_entries(backup["backup"])
    manifest_path.write_text(json.dumps(manifest))
    restored = run_module("redis_restore", dict(redis_params, db=DST_DB, backup=backup["backup"],
                                                delete_after_verify=True))
    assert restored["restored"] and restored["verified"] is False
    verdict = restored["findings"][-1]
    assert verdict["check"] == "redis_restore_verified" and verdict["status"] == "critical"
    assert verdict["value"] == 1 and "differs from the backup" in verdict["message"]
    assert restored["deleted"] == 3 and dst.dbsize() == 0


def test_no_password_in_redis_backup(redis_params, source, tmp_path):
    run_module("redis_backup", dict(redis_params, db=SRC_DB, location=str(tmp_path), method="both",
                                    data_dir=lab_state()["services"]["redis"]["data_dir"]))
    secret = redis_params["password"].encode()
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) >= 4
    for path in files:
        assert secret not in path.read_bytes(), path
    listed = run_module("backup_catalog", {"location": str(tmp_path), "max_age_hours": 6})
    assert listed["status"] == "ok", listed["findings"]
    assert sorted(listed["groups"]) == ["redis/db8", "redis_rdb/db8"]


def test_unreachable_redis_is_a_clear_failure(redis_params, tmp_path):
    from tests.helpers import closed_port

    result = run_module("redis_backup", dict(redis_params, port=closed_port(), connect_timeout=1.0,
                                             location=str(tmp_path)))
    assert result["failed"] and result["msg"].startswith("cannot reach Redis at")
    assert redis_params["password"] not in result["msg"]
    assert not list(tmp_path.iterdir())
