"""database-recovery through `opsbook run` on the ML Bling lab inventory (real PostgreSQL and Kubernetes API).

The lab inventory `inventories/mlbling-lab` is used as it is, plus an overlay inventory that
points the scenario at this test's own database and namespace (never the shared `production`).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import psycopg2
import pytest
import yaml

pytestmark = pytest.mark.lab

pytest.importorskip("kubernetes")
from kubernetes import client  # noqa: E402

from tests.helpers import REPO, poll, run_cli, run_module  # noqa: E402

WORKLOADS = {"backend": 2, "worker": 1}


def _pg(pg_params, dbname):
    conn = psycopg2.connect(host=pg_params["host"], port=pg_params["port"], user=pg_params["user"],
                            password=pg_params["password"], dbname=dbname)
    conn.autocommit = True
    return conn


def _rows(pg_params, db):
    with _pg(pg_params, db) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, v FROM pedidos ORDER BY id")
        return cur.fetchall()


@pytest.fixture
def system(k8s_lab, pg_params, tmp_path):
    """A database with a verified backup, then damaged; a namespace with backend (2) and worker (1)."""
    suffix = uuid.uuid4().hex[:8]
    db, ns = f"dbr_{suffix}", f"dbr-{suffix}"
    admin = _pg(pg_params, pg_params["database"])
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{db}"')
    with _pg(pg_params, db) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE pedidos (id serial PRIMARY KEY, v text NOT NULL); "
                    "INSERT INTO pedidos (v) SELECT 'pedido nº ' || g || ' — ação' FROM generate_series(1, 30) g")
    core, apps = client.CoreV1Api(k8s_lab["api_client"]), client.AppsV1Api(k8s_lab["api_client"])
    core.create_namespace({"metadata": {"name": ns}}, _request_timeout=10)
    for name, replicas in WORKLOADS.items():
        labels = {"app.kubernetes.io/name": name}
        apps.create_namespaced_deployment(ns, {
            "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": name, "image": f"lab.local/{name}:1"}]}}}},
            _request_timeout=10)
    location = tmp_path / "backups"
    backup = run_module("pg_backup", dict(pg_params, database=db, location=str(location)))
    assert backup.get("failed") is not True, backup
    expected = _rows(pg_params, db)
    with _pg(pg_params, db) as conn, conn.cursor() as cur:  # the incident: rows lost and garbage written
        cur.execute("DELETE FROM pedidos WHERE id > 20; UPDATE pedidos SET v = 'corrompido' WHERE id <= 5")
    for name in WORKLOADS:
        poll(lambda name=name: (apps.read_namespaced_deployment(name, ns, _request_timeout=5).status.ready_replicas
                                == WORKLOADS[name]))
    overlay = tmp_path / "inventory"
    overlay.mkdir()
    (overlay / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"lab": {"hosts": {"mlbling-lab": None}}}}}))
    (overlay / "group_vars").mkdir()  # group_vars, to win over mlbling-lab's own group_vars/lab.yml
    (overlay / "group_vars" / "lab.yml").write_text(yaml.safe_dump({
            "opsbook_lab_pg": "{{ lookup('opsbook.runbooks.lab', 'postgres') }}",
            "opsbook_postgres": {"host": "{{ opsbook_lab_pg.host }}", "port": "{{ opsbook_lab_pg.port }}",
                                 "user": "{{ opsbook_lab_pg.user }}", "password": "{{ opsbook_lab_pg.password }}",
                                 "database": db, "sslmode": "disable", "connect_timeout": 3},
            "database_recovery_workloads": [{"name": n, "namespace": ns} for n in WORKLOADS],
            "database_recovery_location": str(location),
            "database_recovery_report_dir": str(tmp_path / "reports"),
            "database_recovery_workload_timeout": 60,
        }))
    yield {"db": db, "ns": ns, "apps": apps, "location": location, "expected": expected, "overlay": overlay,
           "backup": backup}
    core.delete_namespace(ns, _request_timeout=10)
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    admin.close()


def _run(system, tmp_path, *args):
    art = tmp_path / f"artifacts-{uuid.uuid4().hex[:6]}"
    proc = run_cli("run", "database-recovery", "-i", str(REPO / "inventories" / "mlbling-lab"),
                   "-i", str(system["overlay"]), "--json", "--artifacts-dir", str(art),
                   # extra vars too: whatever the inventories' precedence, never the shared `production` namespace
                   "-e", json.dumps({"database_recovery_workloads": [{"name": n, "namespace": system["ns"]} for n in WORKLOADS]}),
                   *args, timeout=400)
    try:
        return proc, json.loads(proc.stdout), art
    except ValueError:
        raise AssertionError(proc.stderr)


def _replicas(system):
    out = {}
    for name in WORKLOADS:
        dep = system["apps"].read_namespaced_deployment(name, system["ns"], _request_timeout=5)
        out[name] = (dep.spec.replicas, dep.status.ready_replicas or 0)
    return out


def _confirm(system):
    return ["--confirm", system["db"], *(arg for name in WORKLOADS for arg in ("--confirm", f"{system['ns']}/{name}"))]


def _confirmations(report):
    return {f["target"]: (f["status"], f["state"], f["message"])
            for f in report["findings"] if f["check"] == "database_recovery_confirmation"}


def _assert_absent(root: Path, secret: str):
    hits = [str(p) for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
    assert hits == []


def test_check_mode_and_no_confirmation_change_nothing(pg_params, system, tmp_path):
    damaged = _rows(pg_params, system["db"])
    proc, report, _art = _run(system, tmp_path, "-C", "--remediate", *_confirm(system))
    assert proc.returncode == 0, (proc.stderr, report)
    by_check = {f["check"]: f for f in report["findings"]}
    assert by_check["postgres_restore"]["message"].startswith(
        f"would replace database {system['db']} from postgres-{system['db']}-")
    actions = [a for a in report["actions"] if a["action"] == "scale"]
    assert sorted((a["target"], a["dry_run"]) for a in actions) == [
        (f"{system['ns']}/backend", True), (f"{system['ns']}/worker", True)]
    db, ns = system["db"], system["ns"]
    assert _confirmations(report) == {  # check mode lists what each confirmation allows
        db: ("ok", "confirmed", f"check mode: confirmed (--confirm {db}): would replace database {db} with its newest "
                                "verified backup"),
        f"{ns}/backend": ("ok", "confirmed", f"check mode: confirmed (--confirm {ns}/backend): would scale {ns}/backend to zero"),
        f"{ns}/worker": ("ok", "confirmed", f"check mode: confirmed (--confirm {ns}/worker): would scale {ns}/worker to zero"),
    }
    proc, report, _art = _run(system, tmp_path, "-C", "--remediate", "--confirm", db)
    assert _confirmations(report)[f"{ns}/worker"] == (
        "warning", "not_confirmed", f"check mode: pass --confirm {ns}/worker to allow: scale {ns}/worker to zero")
    assert _replicas(system) == {"backend": (2, 2), "worker": (1, 1)}
    assert _rows(pg_params, system["db"]) == damaged
    # --remediate without every confirmation: refused before anything changes, naming the missing ones
    proc, report, _art = _run(system, tmp_path, "--remediate", "--confirm", db, "--confirm", f"{ns}/backend")
    assert proc.returncode == 1 and report["failures"] == [], report
    assert _confirmations(report) == {f"{ns}/worker": (
        "warning", "not_confirmed", f"not confirmed, not run: scale {ns}/worker to zero; pass --confirm {ns}/worker to allow it "
                                    "(or --yes for every target)")}
    assert [a for a in report["actions"] if not a["dry_run"]] == []
    assert _replicas(system) == {"backend": (2, 2), "worker": (1, 1)}
    assert _rows(pg_params, system["db"]) == damaged
    assert not list(system["location"].glob("postgres-*_pre_recovery-*"))


def test_recovery_restores_the_backup_and_scales_the_apps_back(pg_params, system, tmp_path):
    migration = "psql -v ON_ERROR_STOP=1 -c 'CREATE TABLE schema_migrations (version int); INSERT INTO schema_migrations VALUES (42)'"
    proc, report, art = _run(system, tmp_path, "--remediate", *_confirm(system),
                             "-e", json.dumps({"database_recovery_migration_command": migration}))
    assert proc.returncode == 0, (proc.stderr, [f for f in report["findings"] if f["status"] != "ok"])
    assert _rows(pg_params, system["db"]) == system["expected"]  # data equals the backup
    assert len(system["expected"]) == 30
    with _pg(pg_params, system["db"]) as conn, conn.cursor() as cur:
        cur.execute("SELECT version FROM schema_migrations")
        assert cur.fetchall() == [(42,)]  # the migration ran on the recovered database
    assert _replicas(system) == {"backend": (2, 2), "worker": (1, 1)}
    by_check = {f["check"]: f for f in report["findings"]}
    assert by_check["postgres_restore_verified"]["status"] == "ok"
    assert "1 tables, 30 rows" in by_check["postgres_restore_verified"]["message"]
    assert by_check["dr_rto"]["status"] == "ok" and by_check["dr_rpo"]["status"] == "ok"
    assert by_check["dr_rto"]["message"].startswith("achieved RTO (apps stopped until the recovery was verified) is ")
    assert "dr_rpo_schedule" not in by_check
    # the current (damaged) state was backed up first: 20 rows
    pre = list(system["location"].glob(f"postgres-{system['db']}_pre_recovery-*"))
    assert len(pre) == 1
    tables = json.loads((pre[0] / "manifest.json").read_text())["details"]["tables"]
    assert [t["rows"] for t in tables] == [20]
    data = json.loads(next((tmp_path / "reports").glob("database-recovery-*.json")).read_text())
    assert [(s["phase"], s["name"], s["status"]) for s in data["steps"]] == [
        ("stop", "scale apps to zero", "ok"), ("backup", "current state", "ok"), ("restore", "postgres", "ok"),
        ("migrate", "migration", "ok"), ("start", "scale apps back", "ok"), ("verify", "database health and checks", "ok")]
    assert all(s["duration"] is not None and s["duration"] >= 0 for s in data["steps"])
    assert data["rto_seconds"] == pytest.approx(
        max(s["finished"] for s in data["steps"]) - data["steps"][0]["started"], abs=0.01)
    assert data["rpo_seconds"] == pytest.approx(data["steps"][0]["started"] - system["backup"]["started"], abs=0.01)
    assert list(art.rglob("job_events/*.json")), "no ansible-runner events were kept"
    _assert_absent(tmp_path, pg_params["password"])  # artifacts, report, backups


def test_a_failed_migration_still_scales_the_apps_back(pg_params, system, tmp_path):
    proc, report, _art = _run(system, tmp_path, "--remediate", "--yes",
                              "-e", "database_recovery_migration_command=/bin/false")
    assert proc.returncode == 4, report
    assert [f["task"] for f in report["failures"]] == ["Run the migration command",
                                                       "Fail when a step failed (the workloads were scaled back)"]
    message = report["failures"][1]["message"]
    assert 'failed at "Run the migration command"' in message
    assert "workloads scaled back: backend=2 (ok), worker=1 (ok)" in message
    pre = list(system["location"].glob(f"postgres-{system['db']}_pre_recovery-*"))
    assert f"the state before the recovery is backed up in {pre[0]}; report " in message
    assert _replicas(system) == {"backend": (2, 2), "worker": (1, 1)}
    assert _rows(pg_params, system["db"]) == system["expected"]  # the restore itself had succeeded
    data = json.loads(next((tmp_path / "reports").glob("database-recovery-*.json")).read_text())
    assert [(s["phase"], s["status"]) for s in data["steps"]][3:5] == [("migrate", "failed"), ("start", "ok")]
    assert data["rto_seconds"] is None
