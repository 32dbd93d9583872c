"""`opsbook run restart-all` (Techbra auto-restart) against Deployments of our own namespace
on the lab's Kubernetes (KWOK node: the rollouts are real, no container runs)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.lab
pytest.importorskip("kubernetes")

from tests.integration.scenario_lab import (  # noqa: E402
    create_deployment,
    findings_by,
    replica_sets,
    revision,
    run_scenario,
    scen_namespace,  # noqa: F401 - fixture
)


@pytest.fixture
def two_deployments(k8s_lab, scen_namespace):
    for name in ("orders", "billing"):
        create_deployment(k8s_lab, scen_namespace, name)
    return {"opsbook_kubernetes": {"kubeconfig": k8s_lab["kubeconfig"], "namespace": scen_namespace},
            "restart_all_timeout": 60}


def test_restart_all_restarts_each_in_order_and_reports(k8s_lab, scen_namespace, two_deployments, tmp_path):
    variables = dict(two_deployments, restart_all_workloads=["orders", "billing"])
    # without --remediate: status only, nothing restarted
    proc, report = run_scenario(tmp_path, "restart-all", variables)
    assert proc.returncode == 0, proc.stderr
    ready = findings_by(report, "workload_ready")
    assert sorted(ready) == [f"{scen_namespace}/billing", f"{scen_namespace}/orders"]
    assert report["actions"] == [] and "workload_restart" not in {f["check"] for f in report["findings"]}
    # check mode: what would be restarted, nothing changes
    proc, report = run_scenario(tmp_path, "restart-all", variables, "--remediate", "--check")
    assert proc.returncode == 0, proc.stderr
    assert [(a["target"], a["dry_run"]) for a in report["actions"]] == [
        (f"{scen_namespace}/orders", True), (f"{scen_namespace}/billing", True)]
    assert [replica_sets(k8s_lab, scen_namespace, n) for n in ("orders", "billing")] == [1, 1]
    # remediation: both restarted, one new ReplicaSet each, revision 1 -> 2
    proc, report = run_scenario(tmp_path, "restart-all", variables, "--remediate")
    assert proc.returncode == 0, proc.stderr
    assert [a["target"] for a in report["actions"]] == [f"{scen_namespace}/orders", f"{scen_namespace}/billing"]
    restarted = findings_by(report, "workload_restart")
    assert {t: f["status"] for t, f in restarted.items()} == {"orders": "ok", "billing": "ok"}
    assert restarted["orders"]["message"] == "orders: restart done and ready, revision 1 -> 2"
    assert [revision(k8s_lab, scen_namespace, n) for n in ("orders", "billing")] == [2, 2]
    assert [replica_sets(k8s_lab, scen_namespace, n) for n in ("orders", "billing")] == [2, 2]


@pytest.mark.parametrize("stop, billing_revision", [(True, 1), (False, 2)])
def test_a_failure_stops_or_goes_on_as_configured(k8s_lab, scen_namespace, two_deployments, tmp_path, stop,
                                                   billing_revision):
    variables = dict(two_deployments, restart_all_workloads=["orders", "missing", "billing"],
                     restart_all_stop_on_failure=stop)
    proc, report = run_scenario(tmp_path, "restart-all", variables, "--remediate")
    assert proc.returncode == 2, proc.stderr
    assert report["run"]["failed"] is False
    restarted = findings_by(report, "workload_restart")
    assert restarted["missing"]["status"] == "critical"
    assert restarted["missing"]["message"] == f"missing: restart failed: deployment {scen_namespace}/missing not found"
    assert restarted["billing"]["status"] == ("warning" if stop else "ok")
    assert [revision(k8s_lab, scen_namespace, n) for n in ("orders", "billing")] == [2, billing_revision]
