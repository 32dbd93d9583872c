"""pg_backup / pg_restore against the lab's real PostgreSQL: round trip, fault drills, retention."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg2
import pytest

from tests.helpers import lab_state, run_module

from ansible_collections.opsbook.runbooks.plugins.module_utils.backup import common as backup_common


def _connect(pg_params, dbname):
    conn = psycopg2.connect(host=pg_params["host"], port=pg_params["port"], user=pg_params["user"],
                            password=pg_params["password"], dbname=dbname)
    conn.autocommit = True
    return conn


def _drop(pg_params, *names):
    conn = _connect(pg_params, pg_params["database"])
    with conn.cursor() as cur:
        for name in names:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


SCHEMA_SQL = """
CREATE TABLE clientes (id serial PRIMARY KEY, nome text NOT NULL, cidade text, criado timestamptz DEFAULT now());
CREATE INDEX clientes_nome_idx ON clientes (lower(nome));
CREATE TABLE pedidos (id bigserial PRIMARY KEY, cliente_id int REFERENCES clientes(id), total numeric(12,2),
                      itens jsonb, nota bytea);
CREATE UNIQUE INDEX pedidos_cliente_total ON pedidos (cliente_id, id);
CREATE SEQUENCE fatura_seq START 1000 INCREMENT 7;
CREATE SCHEMA etl;
CREATE TABLE etl.eventos (ts timestamptz, payload text, ratio double precision);
INSERT INTO clientes (nome, cidade) SELECT 'Cliente ' || g || ' São João ção ü 日本', 'Belém'
  FROM generate_series(1, 120) g;
INSERT INTO pedidos (cliente_id, total, itens, nota)
  SELECT (g % 120) + 1, g * 1.25, jsonb_build_object('sku', 'açaí-' || g, 'qtd', g % 5), decode(md5(g::text), 'hex')
  FROM generate_series(1, 300) g;
INSERT INTO etl.eventos SELECT timestamptz '2026-01-01 00:00+00' + g * interval '1 minute', 'evento ñ ' || g, g / 3.0
  FROM generate_series(1, 50) g;
SELECT nextval('fatura_seq'), nextval('fatura_seq'), nextval('fatura_seq');
SELECT lo_from_bytea(0, convert_to('objeto grande — ação', 'UTF8'));
SELECT lo_from_bytea(0, decode(repeat('ab', 5000), 'hex'));
"""


@pytest.fixture
def source_db(pg_params):
    name = "bkt_" + uuid.uuid4().hex[:10]
    admin = _connect(pg_params, pg_params["database"])
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}" ENCODING UTF8 TEMPLATE template0')
    admin.close()
    conn = _connect(pg_params, name)
    with conn.cursor() as cur:
        cur.execute(SCHEMA_SQL)
    conn.close()
    created = [name]
    yield name, created
    _drop(pg_params, *created)


def plain_dump(pg_params, dbname):
    """pg_dump's own plain-text rendering of a database (what 'equal' means here)."""
    tool = lab_state()["services"]["postgres"]["tools"]["pg_dump"]
    out = subprocess.run([tool, "--host", pg_params["host"], "--port", str(pg_params["port"]),
                          "--username", pg_params["user"], "--no-password", "--dbname", dbname],
                         env=dict(os.environ, PGPASSWORD=pg_params["password"]),
                         capture_output=True, text=True, timeout=60, check=True).stdout
    # \restrict keys are random per dump (PostgreSQL 15.14+)
    return [line for line in out.splitlines() if not re.match(r"^\\(un)?restrict ", line)]


def bin_dir():
    return lab_state()["services"]["postgres"]["bin_dir"]


def test_round_trip_restored_database_equals_source(pg_params, source_db, tmp_path):
    name, created = source_db
    backup = run_module("pg_backup", dict(pg_params, database=name, location=str(tmp_path), bin_dir=bin_dir()))
    assert backup["published"], backup
    manifest = json.loads(Path(backup["backup"], "manifest.json").read_text())
    details = manifest["details"]
    rows = {f'{t["schema"]}.{t["name"]}': t["rows"] for t in details["tables"]}
    assert rows == {"public.clientes": 120, "public.pedidos": 300, "etl.eventos": 50}
    assert details["large_objects"]["count"] == 2
    assert {s["name"]: s["last_value"] for s in details["sequences"]}["fatura_seq"] == 1014
    assert manifest["files"][0]["sha256"] == backup_common.sha256_file(Path(backup["backup"], "dump.pgcustom"))
    assert manifest["tools"]["pg_dump"].startswith("pg_dump (PostgreSQL)")
    assert details["server"]["version"].startswith("15.")

    target = name + "_r"
    created.append(target)
    restored = run_module("pg_restore", dict(pg_params, location=str(tmp_path), label=name,
                                             target_database=target, jobs=2, bin_dir=bin_dir()))
    assert restored["verified"], restored
    assert [f["status"] for f in restored["findings"]] == ["ok", "ok"]
    assert plain_dump(pg_params, target) == plain_dump(pg_params, name)


def test_directory_format_parallel_round_trip(pg_params, source_db, tmp_path):
    name, created = source_db
    backup = run_module("pg_backup", dict(pg_params, database=name, location=str(tmp_path), format="directory",
                                          jobs=2, bin_dir=bin_dir()))
    assert backup["published"], backup
    paths = [f["path"] for f in backup["manifest"]["files"]]
    assert "dump.d/toc.dat" in paths
    target = name + "_d"
    created.append(target)
    restored = run_module("pg_restore", dict(pg_params, backup=backup["backup"], target_database=target, jobs=2,
                                             bin_dir=bin_dir()))
    assert restored["verified"], restored
    assert plain_dump(pg_params, target) == plain_dump(pg_params, name)


def test_restore_detects_a_changed_database(pg_params, source_db, tmp_path):
    """Verification can fail: the manifest expects one row more than the dump holds."""
    name, created = source_db
    backup = run_module("pg_backup", dict(pg_params, database=name, location=str(tmp_path)))
    manifest_path = Path(backup["backup"], "manifest.json")
    manifest = json.loads(manifest_path.read_text())
    # pretend the backup recorded a different row count for one table (manifest re-hashed: files still match)
    manifest["details"]["tables"][0]["rows"] += 1
    manifest_path.write_text(json.dumps(manifest))
    target = name + "_x"
    created.append(target)
    restored = run_module("pg_restore", dict(pg_params, backup=backup["backup"], target_database=target))
    assert restored["verified"] is False
    verdict = {f["check"]: f for f in restored["findings"]}["postgres_restore_verified"]
    assert verdict["status"] == "critical"
    assert "rows, the backup" in verdict["message"]


def test_corrupt_byte_makes_restore_refuse(pg_params, source_db, tmp_path):
    name, created = source_db
    backup = run_module("pg_backup", dict(pg_params, database=name, location=str(tmp_path)))
    dump = Path(backup["backup"], "dump.pgcustom")
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0x01
    dump.write_bytes(bytes(data))
    target = name + "_c"
    created.append(target)
    restored = run_module("pg_restore", dict(pg_params, backup=backup["backup"], target_database=target))
    assert restored["restored"] is False and restored["changed"] is False
    finding = restored["findings"][0]
    assert finding["check"] == "postgres_backup_integrity" and finding["status"] == "critical"
    assert "dump.pgcustom does not match its SHA-256" in finding["message"]
    conn = _connect(pg_params, pg_params["database"])
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (target,))
        assert cur.fetchone()[0] == 0
    conn.close()
    # catalogue agrees: no verified backup left for this label
    listed = run_module("backup_catalog", {"location": str(tmp_path)})
    assert listed["status"] == "critical"
    assert [b["verified"] for b in listed["backups"]] == [False]


def test_replace_needs_confirmation_naming_the_database(pg_params, source_db, tmp_path):
    name, _created = source_db
    backup = run_module("pg_backup", dict(pg_params, database=name, location=str(tmp_path)))
    refused = run_module("pg_restore", dict(pg_params, backup=backup["backup"], target_database=name, mode="replace",
                                            confirm="something-else"))
    assert refused["failed"] and refused["msg"].startswith("confirm:")
    exists = run_module("pg_restore", dict(pg_params, backup=backup["backup"], target_database=name))
    assert exists["failed"] and "already exists" in exists["msg"]
    replaced = run_module("pg_restore", dict(pg_params, backup=backup["backup"], target_database=name, mode="replace",
                                             confirm=name))
    assert replaced["verified"], replaced


def _children_named(parent_pid, name, timeout=20):
    """PIDs of processes named ``name`` descending from ``parent_pid`` (bounded wait)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                comm = stat[stat.index("(") + 1:stat.rindex(")")]
                ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            except (OSError, ValueError):
                continue
            if comm == name and ppid == parent_pid:
                found.append(int(entry))
        if found:
            return found
        time.sleep(0.1)
    return []


def _module_process(args):
    """Start a module in the background; return (Popen, args file)."""
    import tempfile

    handle = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump({"ANSIBLE_MODULE_ARGS": dict(args, _ansible_check_mode=False, _ansible_no_log=False)}, handle)
    handle.close()
    proc = subprocess.Popen([sys.executable, "-m", "ansible_collections.opsbook.runbooks.plugins.modules.pg_backup",
                             handle.name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, handle.name


def _locked_table(pg_params, dbname):
    """A session holding ACCESS EXCLUSIVE on one table: pg_dump waits for it (our own DB only)."""
    conn = _connect(pg_params, dbname)
    conn.autocommit = False
    with conn.cursor() as cur:
        cur.execute("LOCK TABLE etl.eventos IN ACCESS EXCLUSIVE MODE")
    return conn


def _while_pg_dump_waits(pg_params, name, args, during):
    """Run a backup whose pg_dump waits on a locked table; call ``during(pg_dump_pid)``; return its result."""
    blocker = _locked_table(pg_params, name)
    proc, args_file = _module_process(args)
    try:
        pids = _children_named(proc.pid, "pg_dump")
        assert pids, "pg_dump did not start"
        extra = during(pids[0])
    finally:
        blocker.rollback()
        blocker.close()
    out, _err = proc.communicate(timeout=60)
    os.unlink(args_file)
    return proc, json.loads(out), extra


def test_killed_pg_dump_publishes_nothing_and_keeps_previous(pg_params, source_db, tmp_path):
    name, created = source_db
    first = run_module("pg_backup", dict(pg_params, database=name, location=str(tmp_path), keep_count=1))
    assert first["published"]
    proc, result, _ = _while_pg_dump_waits(pg_params, name, dict(pg_params, database=name, location=str(tmp_path),
                                                                   keep_count=1),
                                           lambda pid: os.kill(pid, signal.SIGKILL))
    assert proc.returncode != 0 and result["failed"]
    assert "pg_dump of %s was killed by signal 9" % name in result["msg"]
    assert sorted(os.listdir(tmp_path)) == sorted([first["name"], backup_common.LOCK_FILE])
    target = name + "_k"
    created.append(target)
    restored = run_module("pg_restore", dict(pg_params, location=str(tmp_path), target_database=target))
    assert restored["backup"] == first["backup"] and restored["verified"]


def test_second_concurrent_backup_fails_clearly(pg_params, source_db, tmp_path):
    name, _created = source_db
    _proc, first, second = _while_pg_dump_waits(
        pg_params, name, dict(pg_params, database=name, location=str(tmp_path)),
        lambda pid: run_module("pg_backup", dict(pg_params, database=name, location=str(tmp_path), lock_wait=0.5)))
    assert second["failed"]
    assert second["msg"].startswith("another backup is writing to %s" % tmp_path)
    assert first["published"]
    listed = run_module("backup_catalog", {"location": str(tmp_path)})
    assert [b["verified"] for b in listed["backups"]] == [True]
    assert listed["status"] == "ok"


def test_second_concurrent_backup_waits_for_the_lock(pg_params, source_db, tmp_path):
    name, _created = source_db
    args = dict(pg_params, database=name, location=str(tmp_path), lock_wait=60)

    def start_second(_pid):
        second, args_file = _module_process(args)
        # it must be waiting on the location lock, not dumping
        assert not _children_named(second.pid, "pg_dump", timeout=1.5)
        return second, args_file

    _proc, first, (second, args_file) = _while_pg_dump_waits(pg_params, name, args, start_second)
    out, _err = second.communicate(timeout=60)
    os.unlink(args_file)
    second_result = json.loads(out)
    assert first["published"] and second_result["published"]
    assert first["name"] != second_result["name"]
    listed = run_module("backup_catalog", {"location": str(tmp_path)})
    assert [b["verified"] for b in listed["backups"]] == [True, True]


def test_retention_by_count_and_after_a_failed_backup(pg_params, source_db, tmp_path):
    name, _created = source_db
    names = []
    for _ in range(3):
        result = run_module("pg_backup", dict(pg_params, database=name, location=str(tmp_path), keep_count=2))
        assert result["published"], result
        names.append(result["name"])
    assert sorted(n for n in os.listdir(tmp_path) if n.startswith("postgres-")) == sorted(names[1:])
    assert result["retention"]["deleted"] == [names[0]]
    # a failing backup (wrong password) must delete nothing, even with keep_count=1
    failed = run_module("pg_backup", dict(pg_params, database=name, location=str(tmp_path), keep_count=1,
                                          password="wrong-password-bkt"))
    assert failed["failed"]
    assert "wrong-password-bkt" not in json.dumps(failed)
    assert sorted(n for n in os.listdir(tmp_path) if n.startswith("postgres-")) == sorted(names[1:])


def test_no_password_in_backup_files(pg_params, source_db, tmp_path):
    name, _created = source_db
    run_module("pg_backup", dict(pg_params, database=name, location=str(tmp_path), format="directory"))
    secret = pg_params["password"].encode()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret not in path.read_bytes(), path


def test_check_mode_writes_nothing(pg_params, tmp_path):
    location = tmp_path / "new"
    result = run_module("pg_backup", dict(pg_params, location=str(location)), check_mode=True)
    assert result["changed"] and not result["published"]
    assert not location.exists()


def test_bad_options_name_the_option(pg_params, tmp_path):
    bad = run_module("pg_backup", dict(pg_params, location=str(tmp_path), jobs=3))
    assert bad["failed"] and bad["msg"].startswith("jobs:")
    bad = run_module("pg_backup", dict(pg_params, location=str(tmp_path), exec_in={"pod": "postgres-0"}))
    assert bad["failed"] and bad["msg"].startswith("exec_in:")
    bad = run_module("pg_restore", dict(pg_params, location=str(tmp_path), target_database="x; drop"))
    assert bad["failed"] and bad["msg"].startswith("target_database:")


def test_failed_pg_restore_drops_the_half_restored_database(pg_params, source_db, tmp_path):
    name, created = source_db
    backup = run_module("pg_backup", dict(pg_params, database=name, location=str(tmp_path)))
    # a backup whose dump is valid for its manifest but not a pg_dump archive: pg_restore fails
    dump = Path(backup["backup"], "dump.pgcustom")
    dump.write_bytes(b"not a dump")
    manifest_path = Path(backup["backup"], "manifest.json")
    manifest = json.loads(manifest_path.read_text())
    manifest["files"] = backup_common.file_entries(backup["backup"])
    manifest_path.write_text(json.dumps(manifest))
    target = name + "_f"
    created.append(target)
    failed = run_module("pg_restore", dict(pg_params, backup=backup["backup"], target_database=target))
    assert failed["failed"]
    assert failed["msg"].startswith("pg_restore into %s exited 1" % target)
    assert failed["msg"].endswith("the partially restored database %s was dropped" % target)
    conn = _connect(pg_params, pg_params["database"])
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (target,))
        assert cur.fetchone()[0] == 0
    conn.close()


def test_unreachable_server_is_a_clear_failure(pg_params, tmp_path):
    from tests.helpers import closed_port

    result = run_module("pg_backup", dict(pg_params, port=closed_port(), connect_timeout=2, location=str(tmp_path)))
    assert result["failed"] and result["msg"].startswith("cannot connect to PostgreSQL at")
    assert "Traceback" not in result["_stderr"]
    assert [n for n in os.listdir(tmp_path) if not n.startswith(".opsbook")] == []
