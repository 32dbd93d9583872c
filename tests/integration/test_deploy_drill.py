"""`opsbook run deploy` and `opsbook run rollback` on the lab's Kubernetes (KWOK node).

KWOK runs no container: the smoke-failure drill uses a smoke endpoint that fails (a closed port),
and the bad-image drill deploys a tag the lab's KWOK fault stages cannot pull (``:opsbook-bad``:
the node reports ErrImagePull / ImagePullBackOff, so the rollout itself fails). The image change,
the rollout wait, the automatic rollback and the pre-deploy PostgreSQL backup are real.
"""

from __future__ import annotations

import subprocess
import threading

import pytest

pytestmark = pytest.mark.lab
pytest.importorskip("kubernetes")

from tests.helpers import closed_port, poll  # noqa: E402
from tests.integration import scenario_lab as sl  # noqa: E402
from tests.integration.scenario_lab import scen_namespace  # noqa: E402,F401 - fixture


@pytest.fixture(scope="module")
def smoke_up():
    with sl.HealthServer(lambda: (200, {"status": "UP"}), path="/actuator/health") as url:
        yield url


def image(k8s_lab, namespace):
    return sl.read_deployment(k8s_lab, namespace, "orders").spec.template.spec.containers[0].image


@pytest.fixture
def orders(k8s_lab, scen_namespace):
    sl.create_deployment(k8s_lab, scen_namespace, "orders", image="lab.local/orders:1")
    return {"opsbook_kubernetes": {"kubeconfig": k8s_lab["kubeconfig"], "namespace": scen_namespace},
            "deploy_workload": "deployment/orders", "deploy_timeout": 60, "deploy_smoke_attempts": 2, "deploy_smoke_delay": 0.5}


def test_deploy_with_passing_smoke_then_failing_smoke_rolls_back(k8s_lab, scen_namespace, orders, smoke_up, tmp_path):
    target = f"{scen_namespace}/orders"
    good = dict(orders, deploy_image="lab.local/orders:2", deploy_smoke_endpoints=[{"name": "orders", "url": smoke_up}])
    proc, report = sl.run_scenario(tmp_path, "deploy", good, "--check")
    assert sl.findings_by(report, "deploy_result")[target]["state"] == "dry_run"
    assert (report["outcome"], proc.returncode) == ("healthy", 0)  # the plan: nothing wrong, nothing changed
    assert image(k8s_lab, scen_namespace) == "lab.local/orders:1" and sl.revision(k8s_lab, scen_namespace, "orders") == 1

    proc, report = sl.run_scenario(tmp_path, "deploy", good)
    assert proc.returncode == 0, report["failures"]
    result = sl.findings_by(report, "deploy_result")[target]
    assert result["message"] == f"{target}: deployed lab.local/orders:2 (revision 1 -> 2), smoke checks passed"
    assert image(k8s_lab, scen_namespace) == "lab.local/orders:2" and sl.revision(k8s_lab, scen_namespace, "orders") == 2

    bad = dict(orders, deploy_image="lab.local/orders:3",
               deploy_smoke_endpoints=[{"name": "orders", "url": f"http://127.0.0.1:{closed_port()}/actuator/health"}])
    proc, report = sl.run_scenario(tmp_path, "deploy", bad)
    assert proc.returncode == 2 and report["run"]["failed"] is False, report["failures"]
    result = sl.findings_by(report, "deploy_result")[target]
    assert (result["status"], result["state"]) == ("critical", "rolled_back")
    assert (report["outcome"], proc.returncode) == ("unresolved", 2)  # the deploy did not go through
    assert result["message"].startswith(f"{target}: deploy of lab.local/orders:3 failed, smoke checks critical after 2 attempt(s); "
                                        "rolled back")
    assert [a["action"] for a in report["actions"]][-1] == "rollback"
    # kubectl rollout undo semantics: the previous template comes back as a new revision
    assert image(k8s_lab, scen_namespace) == "lab.local/orders:2" and sl.revision(k8s_lab, scen_namespace, "orders") == 4


def test_pre_deploy_backup_and_no_rollback_when_off(k8s_lab, scen_namespace, orders, pg_params, tmp_path):
    variables = dict(orders, deploy_image="lab.local/orders:2", deploy_backup=True,
                     deploy_backup_location=str(tmp_path / "backups"), deploy_rollback_on_failure=False,
                     deploy_smoke_endpoints=[f"http://127.0.0.1:{closed_port()}/health"], deploy_smoke_attempts=1)
    proc, report = sl.run_scenario(tmp_path, "deploy", variables)
    assert report["run"]["failed"] is False, report["failures"]
    dumps = [p for p in (tmp_path / "backups").rglob("*") if p.is_file() and pg_params["database"] in p.name]
    assert dumps, list((tmp_path / "backups").rglob("*"))
    result = sl.findings_by(report, "deploy_result")[f"{scen_namespace}/orders"]
    assert result["message"].endswith("not rolled back (automatic rollback is off)")
    assert image(k8s_lab, scen_namespace) == "lab.local/orders:2"


def test_rollback_scenario_goes_back_to_the_previous_image(k8s_lab, scen_namespace, orders, smoke_up, tmp_path):
    sl.run_scenario(tmp_path, "deploy", dict(orders, deploy_image="lab.local/orders:2"))
    assert image(k8s_lab, scen_namespace) == "lab.local/orders:2"
    variables = {"opsbook_kubernetes": orders["opsbook_kubernetes"],
                 "rollback_workload": "orders", "rollback_timeout": 60,
                 "rollback_smoke_endpoints": [{"name": "orders", "url": smoke_up}]}
    proc, report = sl.run_scenario(tmp_path, "rollback", variables)  # no --remediate: status only
    assert report["actions"] == [] and image(k8s_lab, scen_namespace) == "lab.local/orders:2"
    proc, report = sl.run_scenario(tmp_path, "rollback", variables, "--remediate")
    assert proc.returncode == 0, report["failures"]
    assert sl.findings_by(report, "rollback_result")["orders"]["status"] == "ok"
    assert image(k8s_lab, scen_namespace) == "lab.local/orders:1" and sl.revision(k8s_lab, scen_namespace, "orders") == 3


def test_deploy_of_a_tag_that_cannot_be_pulled_fails_its_rollout_and_rolls_back(k8s_lab, scen_namespace, orders, tmp_path):
    """The rollout fails because Kubernetes says so: the new ReplicaSet's pod waits in ErrImagePull
    (kubectl shows it while the deploy waits), the old pods stay, and the automatic rollback brings
    the previous template back."""
    from opsbook.lab.kubernetes import BAD_IMAGE_SUFFIX

    target, bad = f"{scen_namespace}/orders", f"lab.local/orders{BAD_IMAGE_SUFFIX}"
    done = {}
    runner = threading.Thread(target=lambda: done.update(zip(("proc", "report"), sl.run_scenario(
        tmp_path, "deploy", dict(orders, deploy_image=bad, deploy_timeout=15)))))
    runner.start()
    try:
        jsonpath = "{range .items[*]}{.metadata.name} {.spec.containers[0].image} {.status.containerStatuses[0].state.waiting.reason}{'\\n'}{end}"
        stuck = poll(lambda: [line.split() for line in sl.kubectl_pods(k8s_lab, scen_namespace, "orders", jsonpath).splitlines()
                              if line.split()[1:] == [bad, "ErrImagePull"]], timeout=180)  # ansible-runner starts first
    finally:
        runner.join(timeout=300)
    (pod_name, _, _), = stuck
    proc, report = done["proc"], done["report"]
    assert report["run"]["failed"] is False, report["failures"]
    result = sl.findings_by(report, "deploy_result")[target]
    assert (result["status"], result["state"]) == ("critical", "rolled_back")
    assert (report["outcome"], proc.returncode) == ("unresolved", 2)
    prefix = (f"{target}: deploy of {bad} failed, rollout failed: rollout of deployment {target} not complete after 15.0s: "
              f"1 of 2 replicas updated, 2 ready; pod {pod_name}: ")
    assert result["message"].startswith(prefix), result["message"]
    assert result["message"][len(prefix):] in ("ErrImagePull (0 restarts); rolled back (revision 3)",
                                               "ImagePullBackOff (0 restarts); rolled back (revision 3)")
    assert [a["action"] for a in report["actions"]] == ["rollback"]  # the update did not complete: no action recorded
    # what kubectl says afterwards: revision 1's template is back as revision 3, and no pod runs the bad tag
    assert image(k8s_lab, scen_namespace) == "lab.local/orders:1" and sl.revision(k8s_lab, scen_namespace, "orders") == 3
    history = subprocess.run(["kubectl", "--kubeconfig", k8s_lab["kubeconfig"], "-n", scen_namespace, "rollout", "history",
                              "deployment/orders", "--revision=3"], capture_output=True, text=True, timeout=30)
    assert history.returncode == 0 and "Image:\tlab.local/orders:1" in history.stdout, history.stdout
    poll(lambda: sl.kubectl_pods(k8s_lab, scen_namespace, "orders", "{.items[*].spec.containers[0].image}").split()
         == ["lab.local/orders:1"] * 2, timeout=30)
