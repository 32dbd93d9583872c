"""`opsbook lab`: status of the running lab, idempotent up, an isolated lifecycle, missing tools."""

from __future__ import annotations

import grp
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import psycopg2
import pytest
import redis

from tests.helpers import closed_port, run_cli


def test_status_json_describes_every_service(lab):
    proc = run_cli("lab", "status", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    services = report["services"]
    assert {"postgres", "redis", "kafka"} <= set(services)
    assert all(s["status"] == "ok" for s in services.values())
    pg = services["postgres"]
    assert pg["port"] == lab["services"]["postgres"]["port"] and pg["user"] and pg["database"]
    assert Path(pg["tools"]["pg_dump"]).exists()
    secret = Path(pg["password_file"]).stat()
    # 0600; 0640 for the group of the lab's execution node once `--with ssh` ran (its runs read the lookup)
    node_group = secret.st_gid != 0 and grp.getgrgid(secret.st_gid).gr_name == "opsbook-node"
    assert "password" not in pg and secret.st_mode & (0o037 if node_group else 0o077) == 0
    kafka = services["kafka"]
    assert kafka["bootstrap_servers"] == [f"127.0.0.1:{kafka['port']}"]
    assert any(Path(kafka["jar_dir"]).glob("kafka_2.13-*.jar"))
    assert kafka["tools"]["consumer_group_command"].endswith("ConsumerGroupCommand")


def test_up_is_idempotent(lab):
    proc = run_cli("lab", "up")
    assert proc.returncode == 0
    for name in ("postgres", "redis", "kafka"):
        assert f"{name}: already running" in proc.stderr


def test_missing_binary_is_one_line_naming_the_package(lab):
    env = {"PATH": str(Path(sys.executable).parent)}  # no /usr/bin: no redis-server, no java
    proc = run_cli("lab", "status", env=env)
    lines = [l for l in proc.stdout.splitlines() if l.strip().startswith("redis")]
    assert len(lines) == 1
    assert "redis-server not found: install it with `apt-get install -y redis-server`" in lines[0]
    assert proc.returncode == 2


@pytest.fixture
def scratch_lab():
    path = Path(tempfile.mkdtemp(prefix="opsbook-lab-test-", dir="/var/tmp"))
    os.chmod(path, 0o755)
    env = {
        "OPSBOOK_LAB_DIR": str(path),
        "OPSBOOK_LAB_PG_PORT": str(closed_port()),
        "OPSBOOK_LAB_REDIS_PORT": str(closed_port()),
    }
    try:
        yield path, env
    finally:
        run_cli("lab", "down", "-s", "postgres", "-s", "redis", env=env)
        shutil.rmtree(path, ignore_errors=True)


def test_isolated_lifecycle_up_status_down_reset(scratch_lab):
    path, env = scratch_lab
    up = run_cli("lab", "up", "-s", "postgres", "-s", "redis", env=env)
    assert up.returncode == 0, up.stderr
    state = json.loads((path / "lab.json").read_text())
    pg, rd = state["services"]["postgres"], state["services"]["redis"]
    password = Path(pg["password_file"]).read_text().strip()
    with psycopg2.connect(host="127.0.0.1", port=pg["port"], user=pg["user"], password=password,
                          dbname=pg["database"]) as conn, conn.cursor() as cur:
        cur.execute("SHOW shared_preload_libraries")
        assert "pg_stat_statements" in cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'checkpointer'")
        assert cur.fetchone()[0] == 1  # a real server with its background processes
        cur.execute("SELECT current_user")
        assert cur.fetchone()[0] == pg["user"]
    conn.close()
    owner = os.stat(path / "postgres" / "data").st_uid
    assert owner != 0, "PostgreSQL must run as an unprivileged user"
    redis_password = Path(rd["password_file"]).read_text().strip()
    client = redis.Redis(port=rd["port"], username=rd["user"], password=redis_password)
    assert client.set("k", "v") is True and client.get("k") == b"v"

    down = run_cli("lab", "down", "-s", "postgres", "-s", "redis", env=env)
    assert down.returncode == 0
    with pytest.raises(redis.ConnectionError):
        redis.Redis(port=rd["port"], socket_connect_timeout=1).ping()

    reset = run_cli("lab", "reset", "--yes", "-s", "postgres", "-s", "redis", env=env)
    assert reset.returncode == 0, reset.stderr
    new_password = Path(pg["password_file"]).read_text().strip()
    assert new_password != password  # secrets regenerated
    new_redis_password = Path(rd["password_file"]).read_text().strip()
    assert new_redis_password != redis_password
    with pytest.raises(redis.AuthenticationError):  # the old password no longer opens Redis
        redis.Redis(port=rd["port"], username=rd["user"], password=redis_password).ping()
    fresh = redis.Redis(port=rd["port"], username=rd["user"], password=new_redis_password)
    assert fresh.get("k") is None  # data wiped
