"""Scenarios backup, restore and dr-rehearsal through the CLI against the lab (real services)."""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import psycopg2
import pytest
import redis

from tests.helpers import run_cli

SRC_DB, SCRATCH_DB, RESTORE_DB = 12, 13, 14  # not REDIS_TEST_DB (11), nor test_backup_redis.py's 8, 9


def _pg(pg_params, dbname):
    conn = psycopg2.connect(host=pg_params["host"], port=pg_params["port"], user=pg_params["user"],
                            password=pg_params["password"], dbname=dbname)
    conn.autocommit = True
    return conn


def _redis(redis_params, db):
    return redis.Redis(host=redis_params["host"], port=redis_params["port"], username=redis_params["username"],
                       password=redis_params["password"], db=db, socket_timeout=10)


@pytest.fixture
def sources(pg_params, redis_params):
    name = "bkt_" + uuid.uuid4().hex[:10]
    admin = _pg(pg_params, pg_params["database"])
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn = _pg(pg_params, name)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE t (id serial PRIMARY KEY, v text); "
                    "INSERT INTO t (v) SELECT 'linha ' || g FROM generate_series(1, 25) g")
    conn.close()
    dbs = [_redis(redis_params, n) for n in (SRC_DB, SCRATCH_DB, RESTORE_DB)]
    for db in dbs:
        db.flushdb()
    dbs[0].mset({f"bkt:cli:{i}": f"valor {i}" for i in range(40)})
    yield name
    with admin.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (name + "%",))
        for (db,) in cur.fetchall():
            cur.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    admin.close()
    for db in dbs:
        db.flushdb()
    dbs[0].config_resetstat()


def _run(*args, tmp_path):
    art = tmp_path / "artifacts"
    proc = run_cli("run", *args, "--json", "--artifacts-dir", str(art), timeout=300)
    try:
        return proc, json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(proc.stderr)


def _assert_no_secrets(root: Path, *secrets: str):
    files = [p for p in root.rglob("*") if p.is_file()]
    assert list(root.rglob("job_events/*.json")), "no ansible-runner events were kept"
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"secret found in {path}"


def test_dr_rehearsal_report_rto_rpo_and_no_secrets(pg_params, redis_params, sources, tmp_path):
    location, reports = tmp_path / "backups", tmp_path / "reports"
    common = ["-e", f"dr_rehearsal_location={location}", "-e", f"dr_rehearsal_report_dir={reports}",
              "-e", f"dr_rehearsal_pg_database={sources}", "-e", f"dr_rehearsal_pg_scratch_database={sources}_dr",
              "-e", f"dr_rehearsal_redis_source_db={SRC_DB}", "-e", f"dr_rehearsal_redis_scratch_db={SCRATCH_DB}"]
    proc, report = _run("dr-rehearsal", *common, tmp_path=tmp_path)
    # seed targets: backups every 6 h cannot meet RPO 1 h -> the schedule finding is critical
    assert proc.returncode == 2, proc.stderr
    by_check = {f["check"]: f for f in report["findings"]}
    assert by_check["dr_rpo_schedule"]["status"] == "critical"
    assert by_check["dr_rpo_schedule"]["value"] > 6 * 3600
    assert by_check["dr_rto"]["status"] == "ok" and by_check["dr_rpo"]["status"] == "ok"
    assert by_check["postgres_restore_verified"]["status"] == "ok"
    assert "25 rows" in by_check["postgres_restore_verified"]["message"]
    assert by_check["redis_restore_verified"]["status"] == "ok"
    assert "40 keys" in by_check["redis_restore_verified"]["message"]
    assert [f["check"] for f in report["findings"] if f["status"] != "ok"] == ["dr_rpo_schedule"]
    # scratch targets were removed, sources untouched
    assert _redis(redis_params, SCRATCH_DB).dbsize() == 0
    assert _redis(redis_params, SRC_DB).dbsize() == 40
    with _pg(pg_params, pg_params["database"]).cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (sources + "_dr",))
        assert cur.fetchone()[0] == 0
    # the report: Markdown, JSON, and an SVG timeline with one bar per step
    md = next(reports.glob("dr-rehearsal-*.md")).read_text()
    assert "## Timeline" in md and "| RTO (restore + verify, all components) |" in md
    data = json.loads(next(reports.glob("dr-rehearsal-*.json")).read_text())
    assert [(s["phase"], s["name"]) for s in data["steps"]] == [("backup", "postgres"), ("backup", "redis"),
                                                                 ("restore", "postgres"), ("restore", "redis")]
    assert data["rto_seconds"] == pytest.approx(
        max(s["finished"] for s in data["steps"][2:]) - min(s["started"] for s in data["steps"][2:]), abs=0.01)
    svg = ET.parse(next(reports.glob("dr-rehearsal-*.svg"))).getroot()
    assert len(svg.findall("{http://www.w3.org/2000/svg}rect")) == 4
    _assert_no_secrets(tmp_path, pg_params["password"], redis_params["password"])

    # a schedule that meets the target: everything ok, exit 0
    proc, report = _run("dr-rehearsal", *common, "-e", "dr_rehearsal_backup_interval_hours=0.5",
                        tmp_path=tmp_path)
    assert proc.returncode == 0, [f for f in report["findings"] if f["status"] != "ok"]


def test_dr_rehearsal_with_a_failing_backup_reports_the_step(pg_params, redis_params, sources, tmp_path):
    reports = tmp_path / "reports"
    proc, report = _run("dr-rehearsal", "-e", f"dr_rehearsal_location={tmp_path / 'b'}",
                        "-e", f"dr_rehearsal_report_dir={reports}", "-e", "dr_rehearsal_pg_database=bkt_missing_db",
                        "-e", "dr_rehearsal_redis=false", "-e", "dr_rehearsal_backup_interval_hours=0.5",
                        tmp_path=tmp_path)
    assert proc.returncode == 2, proc.stderr
    step = {f["check"]: f for f in report["findings"]}["dr_step"]
    assert step["status"] == "critical"
    assert "step 'postgres' (backup) failed" in step["message"]
    assert 'database "bkt_missing_db" does not exist' in step["message"]
    data = json.loads(next(reports.glob("dr-rehearsal-*.json")).read_text())
    assert [s["status"] for s in data["steps"]] == ["failed"]
    assert data["rto_seconds"] is None
    assert not [p for p in (tmp_path / "b").iterdir() if p.name.startswith("postgres-")]


def test_backup_then_restore_scenarios(pg_params, redis_params, sources, tmp_path):
    location = tmp_path / "backups"
    proc, report = _run("backup", "-e", f"backup_location={location}", "-e", f'{{"backup_pg_databases": ["{sources}"]}}',
                        "-e", "backup_redis=false",
                        tmp_path=tmp_path)
    assert proc.returncode == 0, (proc.stderr, report["findings"])
    checks = [f["check"] for f in report["findings"]]
    assert checks.count("postgres_backup") == 1 and "backup_catalog" in checks

    target = sources + "_r"
    args = ["-e", f"restore_location={location}", "-e", f"restore_pg_target_database={target}"]
    proc, dry = _run("restore", *args, tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "would create database" in {f["check"]: f for f in dry["findings"]}["postgres_restore"]["message"]
    with _pg(pg_params, pg_params["database"]).cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (target,))
        assert cur.fetchone()[0] == 0
    proc, done = _run("restore", *args, "--remediate", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert {f["check"]: f for f in done["findings"]}["postgres_restore_verified"]["status"] == "ok"
    with _pg(pg_params, target).cursor() as cur:
        cur.execute("SELECT count(*) FROM t")
        assert cur.fetchone()[0] == 25
        cur.execute("DELETE FROM t WHERE ctid IN (SELECT ctid FROM t LIMIT 5)")

    # replacing it needs --confirm <database>: refused (verified, nothing changed), listed in check mode, then done
    def confirmation(report):
        return [(f["status"], f["state"], f["target"], f["message"]) for f in report["findings"]
                if f["check"] == "restore_confirmation"]

    def rows():
        with _pg(pg_params, target).cursor() as cur:
            cur.execute("SELECT count(*) FROM t")
            return cur.fetchone()[0]

    replace = [*args, "-e", "restore_pg_mode=replace", "--remediate"]
    allows = f"replace database {target} with the newest verified backup"
    proc, refused = _run("restore", *replace, tmp_path=tmp_path)
    assert proc.returncode == 1 and refused["failures"] == [], proc.stderr
    assert confirmation(refused) == [("warning", "not_confirmed", target, f"not confirmed, not run: {allows}; "
                                      f"pass --confirm {target} to allow it (or --yes for every target)")]
    assert {f["check"]: f for f in refused["findings"]}["postgres_restore"]["message"].startswith(
        f"would replace database {target}")
    assert rows() == 20
    proc, plan = _run("restore", *replace, "-C", "--confirm", target, tmp_path=tmp_path)
    assert confirmation(plan) == [("ok", "confirmed", target, f"check mode: confirmed (--confirm {target}): would {allows}")]
    assert rows() == 20
    proc, done = _run("restore", *replace, "--confirm", target, tmp_path=tmp_path)
    assert proc.returncode == 0 and confirmation(done) == [], (proc.stderr, done["findings"])
    assert rows() == 25
    _assert_no_secrets(tmp_path, pg_params["password"], redis_params["password"])


def test_restore_overwriting_redis_keys_needs_the_db_confirmed(redis_params, sources, tmp_path):
    from tests.helpers import run_module

    location = tmp_path / "backups"
    backup = run_module("redis_backup", dict(redis_params, db=SRC_DB, location=str(location)))
    assert backup["published"], backup
    target = _redis(redis_params, RESTORE_DB)
    target.mset({"bkt:cli:0": "drifted", "bkt:cli:1": "drifted"})
    replace = ["-e", f"restore_location={location}", "-e", f"restore_redis_db={RESTORE_DB}",
               "-e", f"restore_redis_label=db{SRC_DB}", "-e", "restore_redis_replace=true", "--remediate"]
    allows = f"overwrite the existing keys of Redis db {RESTORE_DB} with the backup"

    def confirmation(report):
        return [(f["status"], f["state"], f["target"], f["message"]) for f in report["findings"]
                if f["check"] == "restore_confirmation"]

    proc, refused = _run("restore", *replace, tmp_path=tmp_path)
    assert proc.returncode == 1 and refused["failures"] == [], (proc.stderr, refused["failures"])
    assert confirmation(refused) == [("warning", "not_confirmed", f"db{RESTORE_DB}", f"not confirmed, not run: {allows}; "
                                      f"pass --confirm db{RESTORE_DB} to allow it (or --yes for every target)")]
    assert target.get("bkt:cli:0") == b"drifted" and target.dbsize() == 2
    proc, plan = _run("restore", *replace, "-C", "--yes", tmp_path=tmp_path)
    assert confirmation(plan) == [("ok", "confirmed", f"db{RESTORE_DB}",
                                   f"check mode: confirmed (--confirm db{RESTORE_DB}): would {allows}")]
    proc, done = _run("restore", *replace, "--confirm", f"db{RESTORE_DB}", tmp_path=tmp_path)
    assert proc.returncode == 0 and confirmation(done) == [], (proc.stderr, done["findings"])
    assert target.get("bkt:cli:0") == b"valor 0" and target.dbsize() == 40
