"""`opsbook run redis-health` and `opsbook run queue-backlog` end to end against the lab.

Queues live in database 11 under `redist:<random>:`; the connectors' health endpoint is a
real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from tests.helpers import REDIS_TEST_DB, REPO, ListWorker, closed_port, run_cli
from tests.integration.k8s_seed import deployment, replica_set_revisions, seed_namespace


LOG_WINDOW = 7 * 24 * 60  # minutes: KWOK's simulated pod log lines carry the time the lab wrote them


def report_of(proc):
    try:
        return json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(f"no JSON report (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def checks(report):
    result = {}
    for finding in report["findings"]:
        result.setdefault(finding["check"], []).append(finding)
    return result


@pytest.fixture
def health_endpoint():
    """A connectors health endpoint: yields a function (code, body) -> URL."""
    servers = []

    def serve(code, body):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(body).encode())

            def log_message(self, *args):
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/health/connectors"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def queue_vars(queues, **extra):
    variables = {"queue_backlog_db": REDIS_TEST_DB, "queue_backlog_queues": queues, "queue_backlog_samples": 3,
                 "queue_backlog_interval": 0.5, "queue_backlog_recheck_samples": 3,
                 "queue_backlog_recheck_interval": 0.5}
    variables.update(extra)
    return json.dumps(variables)


def test_redis_health_scenario_reports_every_check(lab):
    proc = run_cli("run", "redis-health", "--json", "-e", "redis_health_sample_seconds=1")
    report = report_of(proc)
    assert report["run"]["failed"] is False, report["failures"]
    assert proc.returncode == {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}[report["status"]]
    found = checks(report)
    for check in ("redis_reachable", "redis_memory_usage", "redis_fragmentation", "redis_hit_rate",
                  "redis_hit_rate_window", "redis_clients", "redis_evictions", "redis_persistence",
                  "redis_replication", "redis_latency", "redis_slowlog"):
        assert len(found[check]) == 1, check
    assert found["redis_reachable"][0]["status"] == "ok"
    assert found["redis_memory_usage"][0]["threshold"]["warn"] == 80  # Techbra seed


def test_redis_health_is_read_only(lab):
    proc = run_cli("run", "redis-health", "--remediate")
    assert proc.returncode == 64
    assert "read-only" in proc.stderr


def test_queue_backlog_growing_with_connectors_up(lab, redis_client, redis_prefix, health_endpoint):
    queue = redis_prefix + "sync_queue"
    redis_client.lpush(queue, *[f"old-{i}" for i in range(120)])
    url = health_endpoint(200, {"status": "UP"})
    with ListWorker(redis_client, queue, produce=True):
        proc = run_cli("run", "queue-backlog", "--json", "-e",
                       queue_vars([queue], queue_backlog_connector_health_url=url,
                                  queue_backlog_length_crit=100000))  # above all the producer can push
    report = report_of(proc)
    found = checks(report)
    assert report["run"]["failed"] is False, report["failures"]
    assert found["redis_queue_backlog"][0]["status"] == "warning"  # over 100 items
    assert found["redis_queue_backlog"][0]["value"] >= 120
    assert found["redis_queue_trend"][0]["status"] == "warning"
    assert "growing" in found["redis_queue_trend"][0]["message"]
    assert [(f["status"], f["message"]) for f in found["http_status"] + found["http_json"]] == [
        ("ok", "connectors answered HTTP 200"), ("ok", "connectors: status is 'UP'")]
    assert "workload_ready" not in found  # no workers configured: not checked
    assert report["status"] == "warning" and proc.returncode == 1
    assert report["actions"] == []


@pytest.mark.parametrize("kind", ["down", "unreachable"])
def test_queue_backlog_connectors_failing_is_critical(lab, redis_prefix, health_endpoint, kind):
    url = (health_endpoint(503, {"status": "DOWN"}) if kind == "down"
           else f"http://127.0.0.1:{closed_port()}/health/connectors")
    proc = run_cli("run", "queue-backlog", "--json", "-e",
                   queue_vars([redis_prefix + "empty"], queue_backlog_samples=1,
                              queue_backlog_connector_health_url=url, queue_backlog_connector_timeout=2))
    report = report_of(proc)
    found = checks(report)
    assert proc.returncode == 2
    if kind == "down":
        assert [(f["status"], f["message"]) for f in found["http_status"] + found["http_json"]] == [
            ("critical", "connectors answered HTTP 503, expected 200"),
            ("critical", "connectors: status is 'DOWN', expected one of UP, OK, HEALTHY, PASS")]
    else:
        [finding] = found["http_reachable"]
        assert finding["status"] == "critical" and finding["message"].startswith("connectors is unreachable: ")
        assert "Connection refused" in finding["message"]


def test_queue_backlog_remediation_restarts_workers_requeues_and_rechecks_drain(lab, k8s_lab, redis_client, redis_prefix):
    """mlbling-lab inventory (workers: deployment/worker) pointed at a namespace of our own."""
    queue, dead = redis_prefix + "sync_queue", redis_prefix + "sync_queue:dead"
    redis_client.lpush(queue, *[f"sync-{i}" for i in range(20000)])  # more than the worker drains during the run
    redis_client.lpush(dead, *[f"failed-{i}" for i in range(30)])
    mlbling = ["-i", str(REPO / "inventories" / "mlbling-lab")]
    with seed_namespace(k8s_lab, "redist", {"worker": 1, "backend": 2}) as ns:
        variables = queue_vars([queue], queue_backlog_dead_letter_queue=dead, queue_backlog_requeue_count=25,
                               queue_backlog_samples=2, queue_backlog_interval=0.2,
                               opsbook_kubernetes={"kubeconfig": k8s_lab["kubeconfig"], "namespace": ns},
                               queue_backlog_log_since_minutes=LOG_WINDOW)

        unconfigured = report_of(run_cli("run", "queue-backlog", "--json", "--remediate", "--check", "-e", variables))
        assert unconfigured["run"]["failed"] is False, unconfigured["failures"]
        skipped = checks(unconfigured)["queue_worker_restart"][0]
        assert (skipped["status"], skipped["message"]) == (
            "warning", "skipped: restart the workers - no workload configured (set queue_backlog_workers in the inventory)")

        dry = report_of(run_cli("run", "queue-backlog", *mlbling, "--json", "--remediate", "--check", "-e", variables))
        assert dry["run"]["failed"] is False, dry["failures"]
        actions = {a["action"]: a for a in dry["actions"]}
        assert actions["requeue"]["dry_run"] is True
        assert actions["requeue"]["detail"] == f"would move 25 of 30 items from {dead} to {queue}"
        assert (actions["restart"]["target"], actions["restart"]["dry_run"]) == (f"{ns}/worker", True)
        assert redis_client.llen(dead) == 30 and redis_client.llen(queue) == 20000  # check mode changed nothing
        assert replica_set_revisions(k8s_lab, ns, "worker") == [1]

        with ListWorker(redis_client, queue, produce=False, pause=0.002):  # the restarted worker drains
            proc = run_cli("run", "queue-backlog", *mlbling, "--json", "--remediate", "-e", variables)
        report = report_of(proc)
        assert report["run"]["failed"] is False, report["failures"]
        found = checks(report)
        health = found["workload_ready"][0]
        assert (health["status"], health["target"], health["value"]) == ("ok", f"{ns}/worker", 1)
        assert "queue_worker_restart" not in found
        worker_errors = found["log_pattern_error"]  # KWOK's simulated pod log has one ERROR line per container
        assert [f["value"] for f in worker_errors] == [1]
        assert f"{ns}/worker" in worker_errors[0]["target"] and "backend" not in worker_errors[0]["target"]
        actions = {a["action"]: a for a in report["actions"]}
        assert (actions["restart"]["target"], actions["restart"]["changed"],
                actions["restart"]["dry_run"]) == (f"{ns}/worker", True, False)
        assert replica_set_revisions(k8s_lab, ns, "worker") == [1, 2]  # a new ReplicaSet: the worker restarted
        assert replica_set_revisions(k8s_lab, ns, "backend") == [1]  # only the workers
        worker = deployment(k8s_lab, ns, "worker")
        assert (worker.status.ready_replicas, worker.status.updated_replicas) == (1, 1)
        assert actions["requeue"]["detail"] == f"moved 25 items from {dead} to {queue} (5 left in {dead})"
        assert redis_client.llen(dead) == 5
        trends = [f for f in found["redis_queue_trend"]]
        assert len(trends) == 2  # before remediation and the re-check
        assert "draining at" in trends[-1]["message"] and trends[-1]["status"] == "ok"


def test_queue_backlog_purge_needs_the_queue_confirmed(lab, redis_client, redis_prefix):
    queue = redis_prefix + "sync_queue"
    redis_client.lpush(queue, *[f"sync-{i}" for i in range(50)])
    base = dict(queue_backlog_samples=1, queue_backlog_recheck_samples=1, queue_backlog_purge_queue=queue)

    def purge_findings(report):
        return [(f["status"], f["state"], f["target"], f["message"]) for f in checks(report).get("queue_purge", [])]

    # without a confirmation (or with one naming something else) the purge is refused, naming the exact option
    for extra in ([], ["--confirm", "yes"]):
        refused = run_cli("run", "queue-backlog", "--json", "--remediate", *extra, "-e", queue_vars([queue], **base))
        report = report_of(refused)
        assert report["run"]["failed"] is False, report["failures"]
        assert (report["outcome"], report["status"], refused.returncode) == ("action_needed", "warning", 1)
        assert purge_findings(report) == [("warning", "not_confirmed", queue, f"not confirmed, not run: purge queue {queue}; "
                                           f"pass --confirm {queue} to allow it (or --yes for every target)")]
        assert [a for a in report["actions"] if a["action"] == "purge"] == []
        assert redis_client.llen(queue) == 50  # no data lost

    # check mode lists what the confirmation would allow, with and without it
    plan = report_of(run_cli("run", "queue-backlog", "--json", "-C", "--remediate", "-e", queue_vars([queue], **base)))
    assert purge_findings(plan) == [("warning", "not_confirmed", queue,
                                     f"check mode: pass --confirm {queue} to allow: purge queue {queue}")]
    plan = report_of(run_cli("run", "queue-backlog", "--json", "-C", "--remediate", "--confirm", queue,
                             "-e", queue_vars([queue], **base)))
    assert purge_findings(plan) == [("ok", "confirmed", queue,
                                     f"check mode: confirmed (--confirm {queue}): would purge queue {queue}")]
    assert [(a["action"], a["dry_run"]) for a in plan["actions"] if a["action"] == "purge"] == [("purge", True)]
    assert redis_client.llen(queue) == 50

    done = run_cli("run", "queue-backlog", "--json", "--remediate", "--confirm", queue, "-e", queue_vars([queue], **base))
    report = report_of(done)
    assert report["run"]["failed"] is False, report["failures"]
    purge = [a for a in report["actions"] if a["action"] == "purge"][0]
    assert purge["detail"] == f"deleted queue {queue}: 50 items in 1 keys"
    assert purge_findings(report) == []
    assert redis_client.exists(queue) == 0

    redis_client.lpush(queue, *[f"sync-{i}" for i in range(5)])
    report = report_of(run_cli("run", "queue-backlog", "--json", "--remediate", "--yes", "-e", queue_vars([queue], **base)))
    assert [a["detail"] for a in report["actions"] if a["action"] == "purge"] == [f"deleted queue {queue}: 5 items in 1 keys"]
    assert redis_client.exists(queue) == 0


def test_redis_health_host_without_redis_is_unknown(tmp_path):
    import sys

    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  hosts:\n    app-1:\n      ansible_connection: local\n"
                         f"      ansible_python_interpreter: {sys.executable}\n")
    proc = run_cli("run", "redis-health", "-i", str(inventory), "--json")
    report = report_of(proc)
    assert proc.returncode == 3 and report["status"] == "unknown"
    assert [f["check"] for f in report["findings"]] == ["redis_reachable"]
    assert report["findings"][0]["message"] == (
        "Redis not checked: no opsbook_redis is defined for app-1 (set opsbook_redis in the inventory)")
    assert (report["outcome"], report["findings"][0]["state"]) == ("not_checked", "not_configured")


def test_queue_backlog_secrets_stay_out_of_artifacts(lab, redis_client, redis_prefix, tmp_path):
    queue, dead = redis_prefix + "q", redis_prefix + "q:dead"
    redis_client.lpush(dead, "failed-1")
    artifacts = tmp_path / "artifacts"
    proc = run_cli("run", "queue-backlog", "--remediate", "--json", "--artifacts-dir", str(artifacts), "-vv", "-e",
                   queue_vars([queue], queue_backlog_samples=1, queue_backlog_recheck_samples=1,
                              queue_backlog_dead_letter_queue=dead))
    assert report_of(proc)["run"]["failed"] is False
    secret = lab["services"]["redis"]["password"]
    texts = [p.read_text(errors="replace") for p in artifacts.rglob("*") if p.is_file()]
    assert texts and all(secret not in text for text in texts + [proc.stdout, proc.stderr])


def test_queue_backlog_reads_the_inventory_redis_db(lab, redis_params, redis_client, redis_prefix):
    """Without queue_backlog_db the queues live in opsbook_redis.db (an omitted task option must
    not drop the play's module_defaults value)."""
    queue = redis_prefix + "inventory_db_queue"
    redis_client.lpush(queue, *[f"item-{i}" for i in range(37)])
    variables = json.loads(queue_vars([queue]))
    del variables["queue_backlog_db"]
    variables["opsbook_redis"] = dict(redis_params, db=REDIS_TEST_DB)
    proc = run_cli("run", "queue-backlog", "--json", "-e", json.dumps(variables))
    report = report_of(proc)
    assert report["run"]["failed"] is False, report["failures"]
    assert checks(report)["redis_queue_backlog"][0]["value"] == 37
