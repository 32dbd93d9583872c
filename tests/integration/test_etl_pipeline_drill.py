"""ETL drill: the ETL runbook's tables with rows in every state, `opsbook run etl-pipeline` against
them, and the numbers compared with the runbook's own SQL on the same data."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import pytest

from tests.helpers import run_cli
from tests.integration.k8s_seed import replica_set_revisions, seed_namespace
from opsbook.drills.postgres import connect, execute, rows, scratch_database

SCHEMA = """
CREATE TABLE etl_file (id serial PRIMARY KEY, filename text, status text, uploaded_at timestamptz,
  processing_started_at timestamptz, completed_at timestamptz, updated_at timestamptz, error_message text);
CREATE TABLE etl_dead_letter_queue (id serial PRIMARY KEY, error_type text, entity_type text,
  resolved boolean, created_at timestamptz);
CREATE TABLE etl_alert_history (id serial PRIMARY KEY, alert text, resolved boolean, triggered_at timestamptz);
-- 95 files loaded in the last 24 h (one of them took 150 minutes), 1 loaded two days ago
INSERT INTO etl_file (filename, status, uploaded_at, processing_started_at, completed_at, updated_at)
  SELECT 'ok_' || g, 'loaded', now() - interval '6 hours', now() - interval '6 hours',
         now() - interval '6 hours' + make_interval(mins => g), now() - interval '5 hours'
  FROM generate_series(1, 94) g;
INSERT INTO etl_file (filename, status, uploaded_at, processing_started_at, completed_at, updated_at) VALUES
  ('slow', 'loaded', now() - interval '5 hours', now() - interval '5 hours', now() - interval '150 minutes', now() - interval '150 minutes'),
  ('old', 'loaded', now() - interval '2 days', now() - interval '2 days', now() - interval '2 days', now() - interval '2 days');
-- 3 errors in the last 4 h, 2 messages
INSERT INTO etl_file (filename, status, uploaded_at, updated_at, error_message) VALUES
  ('bad_1', 'error', now() - interval '3 hours', now() - interval '2 hours', 'validation failed: column count'),
  ('bad_2', 'error', now() - interval '3 hours', now() - interval '1 hour', 'validation failed: column count'),
  ('bad_3', 'error', now() - interval '3 hours', now() - interval '30 minutes', 'connection reset');
-- waiting: 2 uploaded and 1 processing for more than an hour, 1 uploaded 10 minutes ago
INSERT INTO etl_file (filename, status, uploaded_at, updated_at) VALUES
  ('wait_a', 'uploaded', now() - interval '3 hours', now() - interval '3 hours'),
  ('wait_b', 'processing', now() - interval '2 hours', now() - interval '2 hours'),
  ('wait_c', 'uploaded', now() - interval '90 minutes', now() - interval '90 minutes'),
  ('fresh', 'uploaded', now() - interval '10 minutes', now() - interval '10 minutes');
-- DLQ: 103 unresolved in 3 groups, 5 resolved
INSERT INTO etl_dead_letter_queue (error_type, entity_type, resolved, created_at)
  SELECT 'validation', 'animal', false, now() - make_interval(mins => g) FROM generate_series(1, 60) g;
INSERT INTO etl_dead_letter_queue (error_type, entity_type, resolved, created_at)
  SELECT 'transient', 'weighing', false, now() - make_interval(mins => g) FROM generate_series(1, 40) g;
INSERT INTO etl_dead_letter_queue (error_type, entity_type, resolved, created_at)
  SELECT 'transient', 'animal', false, now() - make_interval(mins => g) FROM generate_series(1, 3) g;
INSERT INTO etl_dead_letter_queue (error_type, entity_type, resolved, created_at)
  SELECT 'validation', 'animal', true, now() FROM generate_series(1, 5) g;
INSERT INTO etl_alert_history (alert, resolved, triggered_at) VALUES
  ('EtlErrorRate', false, now() - interval '1 hour'), ('EtlDlq', false, now()), ('EtlOld', true, now());
"""

# The runbook's own queries, verbatim (004, "Verificação Matinal", "Cenário 3", "Métricas de SLA").
SEED_DLQ_COUNT = "SELECT COUNT(*) FROM etl_dead_letter_queue WHERE resolved = false;"
SEED_DLQ_ANALYSIS = """SELECT
    error_type,
    entity_type,
    COUNT(*) as count,
    MIN(created_at) as oldest_entry,
    MAX(created_at) as newest_entry
FROM etl_dead_letter_queue
WHERE resolved = false
GROUP BY error_type, entity_type
ORDER BY count DESC;"""
SEED_PENDING = """SELECT
    id, filename, status, uploaded_at,
    NOW() - uploaded_at as waiting_time
FROM etl_file
WHERE status IN ('uploaded', 'processing')
    AND uploaded_at < NOW() - INTERVAL '1 hour'
ORDER BY uploaded_at;"""
SEED_ERRORS = """SELECT
    error_message,
    COUNT(*) as count,
    MAX(updated_at) as last_occurrence
FROM etl_file
WHERE status = 'error'
    AND updated_at > NOW() - INTERVAL '4 hours'
GROUP BY error_message
ORDER BY count DESC;"""
SEED_SLA = """WITH recent_files AS (
    SELECT
        COUNT(*) as total_files,
        COUNT(*) FILTER (WHERE status = 'loaded') as successful_files,
        AVG(EXTRACT(EPOCH FROM (completed_at - processing_started_at))/60) as avg_processing_minutes
    FROM etl_file
    WHERE uploaded_at > NOW() - INTERVAL '24 hours'
)
SELECT
    total_files,
    successful_files,
    ROUND((successful_files::float / total_files * 100), 2) as success_rate_percent,
    ROUND(avg_processing_minutes, 2) as avg_processing_minutes,
    CASE
        WHEN (successful_files::float / total_files * 100) >= 98 THEN '✅ SLA OK'
        WHEN (successful_files::float / total_files * 100) >= 95 THEN '⚠️ SLA Warning'
        ELSE '❌ SLA Breach'
    END as sla_status
FROM recent_files;"""


class _Api(BaseHTTPRequestHandler):
    calls: list = []

    def _reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.calls.append(("GET", self.path, self.headers.get("Authorization")))
        self._reply(200 if self.path == "/health" else 404, {"status": "ok"})

    def do_POST(self):  # noqa: N802
        self.calls.append(("POST", self.path, self.headers.get("Authorization")))
        self._reply(202 if self.path.endswith("/reprocess") else 404, {"queued": True})

    def log_message(self, *args):
        pass


@pytest.fixture
def etl_api():
    _Api.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Api.calls
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def etl_db(pg_params):
    with scratch_database(pg_params) as params:
        conn = connect(params)
        execute(conn, SCHEMA)
        conn.close()
        yield params


def run_etl(db, api_url, *flags):
    proc = run_cli("run", "etl-pipeline", "--json", *flags, "-e", f"etl_pipeline_database={db['database']}",
                   "-e", f"etl_pipeline_api_url={api_url}", "-e", "etl_pipeline_api_token=tok-etl-secret-42")
    assert "Traceback" not in proc.stderr
    assert "tok-etl-secret-42" not in proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    return proc, report, {f["check"]: f for f in report["findings"]}


def test_etl_checks_match_the_runbook_sql(etl_db, etl_api):
    url, calls = etl_api
    conn = connect(etl_db)
    try:
        dlq_count = rows(conn, SEED_DLQ_COUNT)[0][0]
        dlq_groups = rows(conn, SEED_DLQ_ANALYSIS)
        pending = rows(conn, SEED_PENDING)
        errors = rows(conn, SEED_ERRORS)
        with pytest.raises(psycopg2.errors.UndefinedFunction):  # the seed's SLA query as printed
            execute(conn, SEED_SLA)
        sla = rows(conn, SEED_SLA.replace("::float", "::numeric"))[0]
        error_rate = rows(conn, "SELECT round(100.0 * count(*) FILTER (WHERE status = 'error') / count(*), 2) "
                                "FROM etl_file WHERE updated_at > now() - interval '4 hours'")[0][0]
    finally:
        conn.close()
    proc, report, found = run_etl(etl_db, url)
    assert proc.returncode == 2, proc.stderr  # critical: DLQ above 100

    assert (dlq_count, len(dlq_groups), len(pending), len(errors)) == (103, 3, 3, 2)
    assert found["etl_dlq_unresolved"]["value"] == dlq_count
    assert found["etl_dlq_unresolved"]["status"] == "critical"
    assert found["etl_dlq_by_type"]["value"] == len(dlq_groups)
    assert found["etl_files_waiting"]["value"] == len(pending)
    assert found["etl_files_waiting"]["status"] == "warning"
    assert found["etl_error_types"]["value"] == len(errors)
    assert found["etl_error_rate"]["value"] == float(error_rate)
    assert found["etl_files_over_processing_time"]["value"] == 1
    total, successful, rate, _avg, sla_status = sla
    assert (total, successful) == (102, 95)
    assert found["etl_sla_success_rate"]["value"] == float(rate) == 93.14
    assert sla_status == "❌ SLA Breach" and found["etl_sla_success_rate"]["status"] == "critical"
    assert found["etl_alerts_active"]["value"] == 2
    assert found["etl_api_health"]["status"] == "ok"
    assert calls == [("GET", "/health", "Bearer tok-etl-secret-42")]
    assert report["actions"] == []  # no --remediate: nothing reprocessed


def test_remediate_reprocesses_exactly_the_waiting_files(etl_db, etl_api):
    url, calls = etl_api
    conn = connect(etl_db)
    try:
        waiting = [str(r[0]) for r in rows(conn, SEED_PENDING)]
    finally:
        conn.close()

    _, dry, _ = run_etl(etl_db, url, "--remediate", "--check")
    assert [a["target"] for a in dry["actions"]] == [f"{url}/files/{i}/reprocess" for i in waiting]
    assert all(a["dry_run"] and not a["changed"] for a in dry["actions"])
    assert [c for c in calls if c[0] == "POST"] == []

    _, done, found = run_etl(etl_db, url, "--remediate")
    assert [a["target"] for a in done["actions"] if a["changed"]] == [f"{url}/files/{i}/reprocess" for i in waiting]
    assert [c for c in calls if c[0] == "POST"] == [
        ("POST", f"/files/{i}/reprocess", "Bearer tok-etl-secret-42") for i in waiting]
    assert "etl_api_action" not in found


def test_sql_checks_read_only_and_failing_queries(etl_db):
    from tests.helpers import run_module

    result = run_module("sql_checks", dict(etl_db, checks=[
        {"name": "writes", "sql": "DELETE FROM etl_file RETURNING id"},
        {"name": "missing_table", "sql": "SELECT count(*) FROM no_such_table"},
        {"name": "no_rows", "sql": "SELECT 1 WHERE false"},
        {"name": "files", "sql": "SELECT count(*) AS n, 'x' AS label FROM etl_file", "column": "n", "warn": 1000},
    ]))
    found = {f["check"]: f for f in result["findings"]}
    assert found["writes"]["status"] == "unknown" and "read-only transaction" in found["writes"]["message"]
    assert found["missing_table"]["status"] == "unknown" and "no_such_table" in found["missing_table"]["message"]
    assert found["no_rows"]["status"] == "unknown"
    conn = connect(etl_db)
    try:
        assert found["files"]["value"] == rows(conn, "SELECT count(*) FROM etl_file")[0][0] == 103
    finally:
        conn.close()
    assert found["files"]["status"] == "ok"


def test_etl_service_status_systemd_here_and_a_deployment(etl_db, etl_api, k8s_lab):
    """The ETL service as the seed runs it (systemd: not PID 1 on this machine, so unreachable, and never
    restarted), and as a Deployment of a namespace of our own (running: no restart with --remediate)."""
    url, _calls = etl_api
    proc, _report, found = run_etl(etl_db, url, "--remediate", "--check", "-e", "etl_pipeline_service=systemd/etl-service")
    unit = found["workload_reachable"]
    assert (unit["status"], unit["target"]) == ("critical", "systemd/etl-service"), proc.stderr
    assert unit["message"].startswith("systemd is not running on this host")
    assert "etl_service" not in found

    with seed_namespace(k8s_lab, "pgt-etl", {"etl-service": 1}) as ns:
        service = json.dumps({"etl_pipeline_service": "deployment/etl-service",
                              "opsbook_kubernetes": {"kubeconfig": k8s_lab["kubeconfig"], "namespace": ns}})
        proc, report, found = run_etl(etl_db, url, "--remediate", "-e", service)
        ready = found["workload_ready"]
        assert (ready["status"], ready["target"], ready["value"], ready["threshold"]) == (
            "ok", f"{ns}/etl-service", 1, {"expected": 1}), proc.stderr
        assert not [a for a in report["actions"] if a["action"] == "restart"]  # running: not restarted
        assert replica_set_revisions(k8s_lab, ns, "etl-service") == [1]

    _, _report, found = run_etl(etl_db, url, "--remediate", "--check")
    assert found["etl_service"]["status"] == "warning"
    assert found["etl_service"]["message"] == ("skipped: check and restart the ETL service - no workload configured "
                                               "(set etl_pipeline_service in the inventory)")
