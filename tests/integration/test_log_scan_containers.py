"""log_scan over docker compose container logs on the lab's Docker engine, checked against
`docker logs --timestamps` of the same containers. The containers carry compose's labels
(project `scen-<random>`, services web and db) and are removed afterwards."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid

import pytest

from tests.helpers import closed_port, run_module

pytestmark = pytest.mark.lab

SCRIPT = ("echo 'ERROR listen EADDRINUSE 0.0.0.0:3001'; echo 'INFO up'; echo 'connect ECONNREFUSED 127.0.0.1:5432' >&2; "
          "echo 'ERROR connect ECONNREFUSED 127.0.0.1:5432' >&2; echo 'WARN slow query'")


def docker(env, *args):
    out = subprocess.run([shutil.which("docker"), *args], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"docker {' '.join(args)}: {out.stderr}"
    return out


@pytest.fixture
def project(docker_lab):
    env, name = docker_lab["env"], f"scen-{uuid.uuid4().hex[:8]}"
    made = []
    for service, script in (("web", SCRIPT), ("db", "echo 'INFO ready'")):
        container = f"{name}_{service}_1"
        docker(env, "run", "-d", "--name", container, "--network", "host",
               "--label", f"com.docker.compose.project={name}", "--label", f"com.docker.compose.service={service}",
               "--label", "com.docker.compose.container-number=1", docker_lab["image"], "sh", "-c", script)
        made.append(container)
    for container in made:
        docker(env, "wait", container)
    yield name
    docker(env, "rm", "-f", *made)


def test_container_logs_match_docker_logs(docker_lab, project):
    base = {"project": project, "docker_host": docker_lab["docker_host"], "since_minutes": 10}
    result = run_module("log_scan", base)
    assert result.get("failed") is not True, result
    assert [s["source"] for s in result["sources"]] == [f"container/{project}_db_1", f"container/{project}_web_1"]
    out = docker(docker_lab["env"], "logs", "--timestamps", f"{project}_web_1")
    lines = (out.stdout + out.stderr).splitlines()
    assert result["sources"][1]["lines_scanned"] == len(lines) == 5
    assert result["counts"]["error"] == sum(1 for line in lines if re.search(r"\bERROR\b", line)) == 2
    assert result["counts"]["econnrefused"] == 2 and result["counts"]["eaddrinuse"] == 1
    status = {f["check"]: f["status"] for f in result["findings"]}
    assert status["log_pattern_eaddrinuse"] == "critical" and status["log_pattern_econnrefused"] == "warning"
    only_db = run_module("log_scan", dict(base, services=["db"]))
    assert [s["source"] for s in only_db["sources"]] == [f"container/{project}_db_1"]
    assert only_db["counts"]["error"] == 0


def test_missing_service_is_unknown_and_dead_engine_is_critical(docker_lab, project):
    missing = run_module("log_scan", {"project": project, "services": ["nope"], "docker_host": docker_lab["docker_host"]})
    assert [(f["status"], f["message"]) for f in missing["findings"] if f["check"] == "log_source"] == [
        ("unknown", f"cannot read compose/{project}/nope: no containers of compose project {project} service nope")]
    down = run_module("log_scan", {"project": project, "docker_host": f"tcp://127.0.0.1:{closed_port()}", "timeout": 3})
    assert down.get("failed") is not True, down
    assert down["status"] == "critical" and "Docker engine at tcp://127.0.0.1:" in down["findings"][0]["message"]
    bad = run_module("log_scan", {"services": ["web"]})
    assert bad["failed"] is True and bad["msg"] == "services: needs project (the compose project)"


def test_workload_references_pick_each_backend_source(docker_lab, project, tmp_path):
    """`ref`: a compose reference reads that service's containers (project and engine from the module's options,
    as module_defaults pass opsbook_docker, which then is no source of its own), a systemd one the journal of that
    unit; the counts equal the per-source options' counts."""
    journal = tmp_path / "journal"  # no journal on this machine: an unreadable source, reported as such
    result = run_module("log_scan", {"ref": ["compose/web", "systemd/etl-service"], "project": project,
                                     "docker_host": docker_lab["docker_host"], "since_minutes": 10,
                                     "journal_directory": str(journal)})
    assert result.get("failed") is not True, result
    direct = run_module("log_scan", {"project": project, "services": ["web"], "docker_host": docker_lab["docker_host"],
                                     "since_minutes": 10})
    assert len(result["sources"]) == 2, result["sources"]  # the project itself is not read
    assert result["sources"][0] == direct["sources"][0] and result["counts"] == direct["counts"]
    assert result["sources"][1]["source"] == "journal:etl-service.service" and result["sources"][1]["error"]
    said = run_module("log_scan", {"ref": {"kind": "compose", "name": "web", "project": project},
                                   "project": "other", "docker_host": docker_lab["docker_host"], "since_minutes": 10})
    assert said["sources"] == direct["sources"]  # what the reference says wins over the module's options
    refused = run_module("log_scan", {"ref": [{"kind": "lxc", "name": "web"}]})
    assert refused["failed"] and refused["msg"] == "ref[0]: kind must be one of kubernetes, compose, systemd, got 'lxc'"
    no_project = run_module("log_scan", {"ref": "compose/web"})
    assert no_project["failed"] and no_project["msg"] == (
        "ref: compose/web needs a compose project (project, or opsbook_docker.project)")
