"""postgres-connection-pool / postgres-performance / postgres-maintenance end to end through the CLI."""

from __future__ import annotations

import json

import psycopg2
import pytest

from tests.helpers import REPO, run_cli
from tests.integration.k8s_seed import deployment, replica_set_revisions, seed_namespace
from opsbook.drills.postgres import Background, connect, rows, scratch_database, wait_until


@pytest.fixture(scope="module")
def sdb(pg_params):
    with scratch_database(pg_params) as params:
        yield params


def run_json(*args):
    proc = run_cli("run", *args, "--json")
    assert "Traceback" not in proc.stderr
    return proc, json.loads(proc.stdout)


def test_connection_pool_terminates_only_with_remediate_and_confirmation(sdb):
    admin = connect(sdb)
    sleepers = [Background(sdb, "SELECT pg_sleep(600)", application_name="pgt-pool") for _ in range(2)]  # past 5 runs on a loaded machine
    pids = sorted(s.pid for s in sleepers)
    common = ["-e", "postgres_connection_pool_terminate_seconds=1",
              "-e", json.dumps({"postgres_connection_pool_databases": [sdb["database"]]})]
    try:
        assert wait_until(lambda: len(rows(admin, "SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s) "
                                                  "AND now() - query_start > interval '1 second'", (pids,))) == 2)
        _, listed = run_json("postgres-connection-pool", *common)
        assert listed["actions"] == []
        db = sdb["database"]
        allows = f"terminate the backends of database {db} running longer than 1 s"

        def confirmations(report):
            return [(f["status"], f["state"], f["target"], f["message"])
                    for f in report["findings"] if f["check"] == "postgres_terminate_confirmation"]

        _, refused = run_json("postgres-connection-pool", "--remediate", *common, "--confirm", "postgres")
        assert refused["actions"] == []
        assert confirmations(refused) == [("warning", "not_confirmed", db, f"not confirmed, not run: {allows}; "
                                           f"pass --confirm {db} to allow it (or --yes for every target)")]
        _, plan = run_json("postgres-connection-pool", "--remediate", "--check", *common)
        assert plan["actions"] == []
        assert confirmations(plan) == [("warning", "not_confirmed", db, f"check mode: pass --confirm {db} to allow: {allows}")]
        dproc, dry = run_json("postgres-connection-pool", "--remediate", "--check", *common, "--yes")
        assert dry["actions"], (dry["findings"], dry["failures"], dproc.stderr)
        assert confirmations(dry) == [("ok", "confirmed", db, f"check mode: confirmed (--confirm {db}): would {allows}")]
        assert sorted(int(a["target"].rsplit(" ", 1)[1]) for a in dry["actions"]) == pids
        assert all(a["dry_run"] for a in dry["actions"])
        _, done = run_json("postgres-connection-pool", "--remediate", *common, "--confirm", db)
        assert confirmations(done) == []
        assert sorted(int(a["target"].rsplit(" ", 1)[1]) for a in done["actions"] if a["changed"]) == pids
        # the long-query check again after the terminations is the verification: resolved, not just "done"
        after = [f["status"] for f in done["findings"] if f["check"] == "postgres_long_queries" and f["phase"] == "verify"]
        assert (done["outcome"], done["initial_status"], after) == ("resolved", "warning", ["ok"])
        assert wait_until(lambda: rows(admin, "SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)) == [])
    finally:
        for s in sleepers:
            s.close()
        admin.close()
    assert all(isinstance(s.error, psycopg2.OperationalError) for s in sleepers)


def test_performance_and_maintenance_scenarios_run(sdb):
    db = ["-e", json.dumps({"opsbook_postgres": dict(sdb, sslmode='disable')})]
    proc, perf = run_json("postgres-performance", *db, "-e",
                          json.dumps({"postgres_performance_explain_statements": ["SELECT 1"]}))
    checks = {f["check"] for f in perf["findings"]}
    assert {"postgres_long_queries", "postgres_blocked_queries", "postgres_explain_plan_issues"} <= checks, proc.stderr
    _, dry = run_json("postgres-maintenance", "--remediate", "--check", *db)
    assert [a["detail"] for a in dry["actions"]] == ["VACUUM (ANALYZE)"]
    assert all(a["dry_run"] for a in dry["actions"])


def test_connection_pool_restarts_the_app_deployment_only_with_remediate(sdb, k8s_lab):
    """techbra-lab inventory (app workload order-service) pointed at a namespace of our own; a pool of 1
    connection is always exhausted (critical), so the restart is due whenever remediation is on."""
    techbra = ["-i", str(REPO / "inventories" / "techbra-lab"),
               "-e", json.dumps({"opsbook_postgres": dict(sdb, sslmode='disable')}),
               "-e", "postgres_connection_pool_size=1"]
    with seed_namespace(k8s_lab, "pgt", {"order-service": 2, "billing-service": 2}) as ns:
        techbra += ["-e", json.dumps({"opsbook_kubernetes": {"kubeconfig": k8s_lab["kubeconfig"], "namespace": ns}})]
        proc, diagnosis = run_json("postgres-connection-pool", *techbra)
        use = [f for f in diagnosis["findings"] if f["check"] == "postgres_connection_utilization"]
        assert [(f["status"], f["threshold"]["crit"]) for f in use] == [("critical", 90)], proc.stderr
        assert diagnosis["actions"] == []

        _, dry = run_json("postgres-connection-pool", "--remediate", "--check", *techbra)
        assert [(a["action"], a["target"], a["dry_run"]) for a in dry["actions"]] == [
            ("restart", f"{ns}/order-service", True)]
        assert replica_set_revisions(k8s_lab, ns, "order-service") == [1]

        proc, done = run_json("postgres-connection-pool", "--remediate", *techbra)
        assert done["run"]["failed"] is False, done["failures"]
        assert [(a["action"], a["target"], a["changed"], a["dry_run"]) for a in done["actions"]] == [
            ("restart", f"{ns}/order-service", True, False)]
        assert replica_set_revisions(k8s_lab, ns, "order-service") == [1, 2]  # a new ReplicaSet
        assert replica_set_revisions(k8s_lab, ns, "billing-service") == [1]
        order = deployment(k8s_lab, ns, "order-service")
        assert (order.status.ready_replicas, order.status.updated_replicas) == (2, 2)
        assert len([f for f in done["findings"] if f["check"] == "postgres_connection_utilization"]) == 2  # before, after


def test_connection_pool_restart_unconfigured_is_a_skipped_step(sdb):
    _, done = run_json("postgres-connection-pool", "--remediate", "-e", "postgres_connection_pool_size=1",
                       "-e", json.dumps({"opsbook_postgres": dict(sdb, sslmode='disable')}))
    assert done["run"]["failed"] is False, done["failures"]
    skipped = [(f["status"], f["message"]) for f in done["findings"] if f["check"] == "postgres_app_restart"]
    assert skipped == [("warning", "skipped: restart the application to release leaked connections - no workload "
                                   "configured (set postgres_connection_pool_app_workload in the inventory)")]
    assert done["actions"] == []
