"""`opsbook drill`: the fault injected into the lab, the scenario run as `opsbook run` runs it, the
stages judged, and the lab put back; refused anywhere but a running local lab.

The api-down drill stops the lab's own conectsuite backend: the scenario must restart it (the test
never does, except in its cleanup when the drill failed to)."""

from __future__ import annotations

import json

import pytest

from opsbook.drills.compose import Compose, http_status
from opsbook.drills.postgres import connect, rows
from tests.helpers import lab_state, run_cli


@pytest.fixture(scope="module")
def drill_lab():
    """Only what the api-down drill needs: PostgreSQL and the Docker engine with conectsuite (started if needed)."""
    from opsbook.lab.core import Lab

    Lab(log=lambda *_: None).up(["postgres"], extra=("docker",))
    return lab_state()


@pytest.fixture
def backend(drill_lab):
    """The conectsuite project as docker-compose sees it; running and healthy again after the test, whatever happened."""
    docker = drill_lab["services"]["docker"]
    compose = Compose(docker["compose_project"], docker["compose_file"], docker["docker_host"])
    assert http_status(docker["backend_url"]) == 200, "the lab's backend must be up before a drill"
    yield compose
    if not compose.healthy("backend"):
        compose.start("backend")


def drill(*args):
    proc = run_cli("drill", *args)
    try:
        return proc, json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(f"no JSON (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def stages(result):
    return [(s["stage"], s["ok"]) for s in result["stages"]]


@pytest.mark.lab
def test_api_down_is_detected_restarted_by_the_scenario_and_verified(backend, drill_lab):
    before = backend.state("backend")["StartedAt"]
    proc, result = drill("api-down", "--json")
    assert stages(result) == [("inject", True), ("detect", True), ("fix", True), ("verify", True),
                              ("cleanup", True)], (result["stages"], proc.stderr)
    assert (result["ok"], result["exit_code"], proc.returncode) == (True, 0, 0)
    report = result["report"]
    # the recovery is the scenario's: its restart action, its verification, its MTTR from the injection time
    assert [(a["action"], a["target"], a["changed"], a["dry_run"]) for a in report["actions"]] == [
        ("restart", "conectsuite/backend", True, False)]
    assert (report["scenario"], report["outcome"], report["initial_status"], report["status"]) == (
        "api-down", "resolved", "critical", "ok")
    assert report["inventory"][0].endswith("inventories/conectsuite-lab")
    diagnosed = {f["check"]: f for f in report["findings"] if f["phase"] == "diagnose" and f["target"] == "backend"}
    assert diagnosed["http_reachable"]["status"] == "critical"
    mttr = next(f for f in report["findings"] if f["check"] == "api_down_mttr")
    assert mttr["status"] == "ok" and 0 < mttr["value"] < 7
    assert result["stages"][-1]["message"] == "conectsuite/backend running and healthy: nothing to put back"
    # the lab's Docker says so too: the same container, started again by the scenario, healthy
    state = backend.state("backend")
    assert state["Running"] is True and state["StartedAt"] != before
    assert http_status(drill_lab["services"]["docker"]["backend_url"]) == 200


@pytest.mark.lab
def test_diagnose_only_sees_the_fault_leaves_it_and_the_drill_cleans_up(backend, drill_lab):
    proc, result = drill("api-down", "--no-remediate", "--json")
    assert stages(result) == [("inject", True), ("detect", True), ("fix", None), ("verify", True),
                              ("cleanup", True)], (result["stages"], proc.stderr)
    assert proc.returncode == 0 and result["report"]["actions"] == []
    assert (result["report"]["outcome"], result["report"]["exit_code"]) == ("action_needed", 2)
    assert result["stages"][3]["message"].startswith("not fixed, as asked (outcome action_needed): ")
    assert "answers nothing" in result["stages"][3]["message"]  # still down when judged
    assert result["stages"][-1]["message"].startswith("started conectsuite/backend again")  # the drill's cleanup
    assert backend.healthy("backend") and http_status(drill_lab["services"]["docker"]["backend_url"]) == 200


@pytest.mark.lab
def test_the_table_names_each_stage(backend):
    proc = run_cli("drill", "api-down")
    assert proc.returncode == 0, proc.stderr
    lines = [line.split()[:2] for line in proc.stdout.splitlines()[-5:]]
    assert lines == [["inject", "PASS"], ["detect", "PASS"], ["fix", "PASS"], ["verify", "PASS"], ["cleanup", "PASS"]]
    assert "outcome: RESOLVED" in proc.stdout
    assert proc.stderr.strip().endswith("drill api-down passed: inject -> detect -> fix -> verify -> cleanup")


@pytest.mark.lab
def test_an_already_down_backend_is_refused_and_left_as_found(backend, drill_lab):
    backend.stop("backend")
    proc = run_cli("drill", "api-down")
    assert proc.returncode == 3, proc.stderr
    assert "drill api-down failed at stage baseline: conectsuite/backend is already down" in proc.stderr
    assert backend.running("backend") is False  # not the drill's fault: not the drill's to put back


@pytest.fixture(scope="module")
def pg_lab_only():
    from opsbook.lab.core import Lab

    Lab(log=lambda *_: None).up(["postgres"])
    pg = lab_state()["services"]["postgres"]
    return {k: pg[k] for k in ("host", "port", "user", "password", "database")}


@pytest.mark.lab
def test_idle_in_transaction_sessions_are_terminated_by_the_scenario_and_verified(pg_lab_only):
    proc, result = drill("postgres-connection-pool", "--json")
    assert stages(result) == [("inject", True), ("detect", True), ("fix", True), ("verify", True),
                              ("cleanup", True)], (result["stages"], proc.stderr)
    assert proc.returncode == 0
    report = result["report"]
    pids = sorted(int(p) for p in result["stages"][0]["message"].split("(pids ")[1].rstrip(")").split(", "))
    assert sorted(int(a["target"].rsplit(" ", 1)[1]) for a in report["actions"]
                  if a["action"] == "terminate_backend" and a["changed"]) == pids
    assert all("idle in transaction" in a["detail"] for a in report["actions"])
    assert (report["outcome"], report["initial_status"], report["inventory"][0].endswith("inventories/lab")) == (
        "resolved", "warning", True)
    database = result["stages"][-1]["message"].rsplit(" ", 1)[1]
    assert database.startswith("opsbook_drill_")
    admin = connect(pg_lab_only)
    try:  # pg_stat_activity and pg_database, as psql would show them: sessions gone, scratch database dropped
        assert rows(admin, "SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)) == []
        assert rows(admin, "SELECT datname FROM pg_database WHERE datname = %s", (database,)) == []
    finally:
        admin.close()


def test_no_lab_is_refused_naming_the_services(tmp_path):
    proc = run_cli("drill", "api-down", "--lab-dir", str(tmp_path / "nolab"))
    assert proc.returncode == 3
    assert proc.stderr.startswith(f"error: drill api-down: refused, nothing injected: no lab at {tmp_path / 'nolab'} ")
    assert proc.stderr.rstrip().endswith("drill api-down needs postgres, docker: `opsbook lab up --with docker`")


def test_a_stopped_or_partial_lab_is_refused(tmp_path):
    copy = tmp_path / "lab"
    copy.mkdir()
    (copy / "lab.json").write_text(json.dumps({"services": {"postgres": {"host": "127.0.0.1", "port": 1}}}))
    proc = run_cli("drill", "api-down", "--lab-dir", str(copy))
    assert proc.returncode == 3
    assert proc.stderr.strip() == (f"error: drill api-down: refused, nothing injected: the lab at {copy} is not ready "
                                   "for drill api-down (not started: docker; stopped: postgres): "
                                   "`opsbook lab up --with docker`")


def test_no_inventory_and_no_unknown_drill():
    proc = run_cli("drill", "api-down", "-i", "inventories/conectcrm")
    assert proc.returncode == 64 and "No such option '-i'" in proc.stderr
    proc = run_cli("drill", "nope")
    assert proc.returncode == 64 and "No such command 'nope'" in proc.stderr


def test_list_shows_scenario_fault_and_services():
    proc = run_cli("drill", "list")
    assert proc.returncode == 0
    assert proc.stdout.splitlines() == [
        "DRILL                     SCENARIO                  SERVICES         FAULT",
        "api-down                  api-down                  postgres,docker  the lab's compose backend "
        "(conectsuite/backend) is stopped",
        "postgres-connection-pool  postgres-connection-pool  postgres         3 sessions idle in transaction for "
        "over 30 s in a scratch database"]
    listed = json.loads(run_cli("drill", "list", "--json").stdout)
    assert listed[0] == {"drill": "api-down", "scenario": "api-down", "services": ["postgres", "docker"],
                         "fault": "the lab's compose backend (conectsuite/backend) is stopped",
                         "lab_up": "opsbook lab up --with docker"}


def test_help_has_examples():
    for args in (("drill", "--help"), ("drill", "api-down", "--help")):
        proc = run_cli(*args)
        assert proc.returncode == 0 and "Examples:" in proc.stdout and "opsbook drill api-down" in proc.stdout
