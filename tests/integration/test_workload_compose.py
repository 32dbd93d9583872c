"""The workload module's compose backend against the lab's Docker engine.

Each test brings up its own compose project with docker-compose (busybox httpd on a free
loopback port with a HEALTHCHECK), checks the module's answers against `docker inspect`
and the HTTP endpoint, and removes the project (and any container carrying its label).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid

import pytest

from tests.docker_cli import docker, health, inspect
from tests.helpers import closed_port, poll, run_module

pytestmark = pytest.mark.lab

PROJECT_LABEL = "com.docker.compose.project"


@pytest.fixture
def compose_web(docker_lab, tmp_path):
    """Compose project wlc<random> with one service `web` (httpd + healthcheck); torn down afterwards."""
    env, port = docker_lab["env"], closed_port()
    project = f"wlc{uuid.uuid4().hex[:8]}"
    spec = {"version": "2.4", "services": {"web": {
        "image": docker_lab["image"], "network_mode": "host", "init": True,
        "command": ["httpd", "-f", "-p", f"127.0.0.1:{port}", "-h", "/www"],
        "healthcheck": {"test": ["CMD", "wget", "-q", "-O", "/dev/null", f"http://127.0.0.1:{port}/health"],
                        "interval": "1s", "timeout": "2s", "retries": 2}}}}
    compose_file = tmp_path / "docker-compose.yml"
    compose_file.write_text(json.dumps(spec))
    cmd = [shutil.which("docker-compose"), "-p", project, "-f", str(compose_file)]
    up = subprocess.run([*cmd, "up", "-d"], env=env, capture_output=True, text=True, timeout=120)
    assert up.returncode == 0, up.stderr
    args = {"kind": "compose", "project": project, "name": "web", "docker_host": docker_lab["docker_host"], "timeout": 60}
    try:
        yield {"args": args, "env": env, "port": port, "project": project, "cmd": cmd}
    finally:
        subprocess.run([*cmd, "down", "-t", "2"], env=env, capture_output=True, text=True, timeout=120)
        left = docker(env, "ps", "-aq", "--filter", f"label={PROJECT_LABEL}={project}").split()
        if left:
            docker(env, "rm", "-f", *left)


@pytest.fixture
def new_tag(docker_lab):
    """A second tag of the lab image (same content, another reference), untagged afterwards."""
    tag = f"lab/busybox:wl-{uuid.uuid4().hex[:8]}"
    docker(docker_lab["env"], "tag", docker_lab["image"], tag)
    yield tag
    docker(docker_lab["env"], "rmi", tag)


def _container(web):
    ids = docker(web["env"], "ps", "-aq", "--no-trunc", "--filter", f"label={PROJECT_LABEL}={web['project']}").split()
    assert len(ids) == 1, ids
    return ids[0]


def test_status_matches_docker_inspect(compose_web):
    waited = run_module("workload", dict(compose_web["args"], operation="wait"))
    assert waited.get("failed") is not True, waited
    status = run_module("workload", compose_web["args"])
    info = inspect(compose_web["env"], _container(compose_web))
    [row] = status["containers"]
    assert (row["name"], row["state"], row["health"], row["restarts"], row["image"]) == (
        info["Name"].lstrip("/"), info["State"]["Status"], info["State"]["Health"]["Status"], info["RestartCount"],
        info["Config"]["Image"]) == (f"{compose_web['project']}_web_1", "running", "healthy", 0, "lab/busybox:1")
    assert (status["ready"], status["status"], status["desired"], status["ready_replicas"]) == (True, "ok", 1, 1)
    assert status["workload"] == f"{compose_web['project']}/web"


def test_ref_takes_the_project_and_engine_from_the_module_options(compose_web):
    """`ref: compose/web` as inventories write it; project and docker_host arrive as module options (module_defaults
    from opsbook_docker), a dict reference may say its own."""
    args = compose_web["args"]
    options = {"project": args["project"], "docker_host": args["docker_host"], "timeout": 60}
    direct = run_module("workload", dict(args, operation="wait"))
    by_ref = run_module("workload", dict(options, ref="compose/web", operation="wait"))
    assert by_ref.get("failed") is not True, by_ref
    assert (by_ref["kind"], by_ref["workload"], by_ref["containers"][0]["id"]) == (
        "compose", f"{compose_web['project']}/web", direct["containers"][0]["id"])
    said = run_module("workload", dict(options, project="other", ref={"kind": "compose", "name": "web", "project": args["project"]}))
    assert (said["workload"], said["status"]) == (f"{compose_web['project']}/web", "ok")
    restarted = run_module("workload", dict(options, ref="compose/web", operation="restart"))
    assert restarted.get("failed") is not True and [a["action"] for a in restarted["actions"]] == ["restart"], restarted
    no_project = run_module("workload", {"ref": "compose/web", "docker_host": args["docker_host"]})
    assert no_project["failed"] is True and no_project["msg"] == "project: the compose project is required for kind=compose"
    bad = run_module("workload", dict(options, ref={"kind": "compose", "name": "web", "namespace": "x"}))
    assert bad["failed"] is True and bad["msg"].startswith("ref: namespace is for kind kubernetes, not compose")


def test_stop_is_critical_then_start_is_healthy(compose_web):
    args, env = compose_web["args"], compose_web["env"]
    assert run_module("workload", dict(args, operation="wait")).get("failed") is not True
    refused = run_module("workload", dict(args, operation="stop"))
    assert refused["msg"] == "confirm: stopping web takes it out of service; set confirm to 'web' to proceed"
    dry = run_module("workload", dict(args, operation="stop", confirm="web"), check_mode=True)
    assert (dry["changed"], dry["actions"][0]["dry_run"]) == (True, True)
    assert inspect(env, _container(compose_web))["State"]["Status"] == "running"

    stopped = run_module("workload", dict(args, operation="stop", confirm="web"))
    assert stopped.get("failed") is not True, stopped
    state = inspect(env, _container(compose_web))["State"]
    assert state["Status"] == "exited" and health(compose_web["port"]) is None
    status = run_module("workload", args)
    [row] = status["containers"]
    assert (status["status"], status["ready"], row["state"], row["exit_code"], row["oom_killed"]) == (
        "critical", False, "exited", state["ExitCode"], False)
    name = f"{compose_web['project']}_web_1"
    assert [f["message"] for f in status["findings"] if f["check"] == "workload_container"] == [
        f"container {name} is exited (exit code {state['ExitCode']}, 0 restarts)"]

    started = run_module("workload", dict(args, operation="start"))
    assert started.get("failed") is not True, started
    assert (started["changed"], started["status"], started["containers"][0]["health"]) == (True, "ok", "healthy")
    assert health(compose_web["port"]) == "OK"
    idle = run_module("workload", dict(args, operation="start"))
    assert idle["changed"] is False


def test_restart_gives_a_new_start_and_waits_for_health(compose_web):
    args, env = compose_web["args"], compose_web["env"]
    assert run_module("workload", dict(args, operation="wait")).get("failed") is not True
    before = inspect(env, _container(compose_web))["State"]["StartedAt"]
    result = run_module("workload", dict(args, operation="restart"))
    assert result.get("failed") is not True, result
    after = inspect(env, _container(compose_web))["State"]
    assert after["StartedAt"] != before and after["Health"]["Status"] == "healthy"
    assert result["containers"][0]["started_at"] == after["StartedAt"]
    assert health(compose_web["port"]) == "OK"


def test_update_then_rollback_recreates_with_the_recorded_image(compose_web, new_tag, docker_lab):
    args, env = compose_web["args"], compose_web["env"]
    assert run_module("workload", dict(args, operation="wait")).get("failed") is not True
    refused = run_module("workload", dict(args, operation="rollback"))
    assert refused["msg"] == (f"rollback: container {compose_web['project']}_web_1 of {compose_web['project']}/web has no "
                              "previous image recorded (label opsbook.previous-image is set by operation=update); nothing to roll back to")
    original = _container(compose_web)
    missing = run_module("workload", dict(args, operation="update", image="lab/absent:0"))
    assert missing["msg"] == "image lab/absent:0 not found on the engine (pull or load it first)"
    dry = run_module("workload", dict(args, operation="update", image=new_tag), check_mode=True)
    assert (dry["changed"], dry["image"], dry["previous_image"]) == (True, new_tag, "lab/busybox:1")
    assert _container(compose_web) == original and inspect(env, original)["State"]["Status"] == "running"

    updated = run_module("workload", dict(args, operation="update", image=new_tag))
    assert updated.get("failed") is not True, updated
    current = _container(compose_web)
    info = inspect(env, current)
    assert current != original and info["Name"] == f"/{compose_web['project']}_web_1"
    assert (info["Config"]["Image"], info["Config"]["Labels"]["opsbook.previous-image"]) == (new_tag, "lab/busybox:1")
    assert info["Config"]["Labels"]["com.docker.compose.service"] == "web" and info["HostConfig"]["NetworkMode"] == "host"
    assert (updated["previous_image"], updated["image"], updated["status"]) == ("lab/busybox:1", new_tag, "ok")
    assert health(compose_web["port"]) == "OK"
    ps = subprocess.run([*compose_web["cmd"], "ps", "-q", "web"], env=env, capture_output=True, text=True, timeout=60)
    assert ps.stdout.split() == [current]  # docker-compose still sees it as the service's container

    back = run_module("workload", dict(args, operation="rollback"))
    assert back.get("failed") is not True, back
    info = inspect(env, _container(compose_web))
    assert (info["Config"]["Image"], info["Config"]["Labels"]["opsbook.previous-image"]) == ("lab/busybox:1", new_tag)
    assert (back["image"], back["previous_image"], back["containers"][0]["health"]) == ("lab/busybox:1", new_tag, "healthy")
    assert health(compose_web["port"]) == "OK"


def test_scale_is_refused_and_unreachable_engine_is_a_finding(compose_web, tmp_path):
    scaled = run_module("workload", dict(compose_web["args"], operation="scale", replicas=2))
    assert scaled["msg"] == ("operation: scale is not supported for kind=compose: creating or removing containers needs the "
                             f"compose file (run docker-compose -p {compose_web['project']} up -d --scale web=2)")
    down = run_module("workload", dict(compose_web["args"], docker_host=f"unix://{tmp_path}/none.sock"))
    assert down.get("failed") is not True, down
    assert (down["status"], down["findings"][0]["check"]) == ("critical", "workload_reachable")
    assert down["findings"][0]["message"].startswith(f"Docker engine at unix://{tmp_path}/none.sock is unreachable: ")
    empty = run_module("workload", dict(compose_web["args"], operation="restart", name="absent"))
    assert empty["msg"].startswith(f"compose service {compose_web['project']}/absent has no containers on ")


@pytest.fixture
def bad_image(docker_lab):
    """A real broken release: the lab image without /www/health (httpd answers 404, the healthcheck fails)."""
    env, tag = docker_lab["env"], f"lab/busybox:wl-bad-{uuid.uuid4().hex[:8]}"
    builder = f"wlbuild{uuid.uuid4().hex[:8]}"
    try:
        docker(env, "run", "--name", builder, "--network", "none", docker_lab["image"], "busybox", "rm", "/www/health")
        docker(env, "commit", builder, tag)
    finally:
        subprocess.run([shutil.which("docker"), "rm", "-f", builder], env=env, capture_output=True, timeout=60)
    yield tag
    docker(env, "rmi", tag)


def test_bad_release_is_unhealthy_and_rollback_restores_health(compose_web, bad_image):
    args, env = compose_web["args"], compose_web["env"]
    assert run_module("workload", dict(args, operation="wait")).get("failed") is not True
    failed = run_module("workload", dict(args, operation="update", image=bad_image, timeout=6))
    assert failed["failed"] is True
    name = f"{compose_web['project']}_web_1"
    assert failed["msg"].startswith(f"compose service {compose_web['project']}/web not running and healthy after 6.0s: {name} running/")
    poll(lambda: inspect(env, _container(compose_web))["State"]["Health"]["Status"] == "unhealthy", timeout=30)
    status = run_module("workload", args)
    [row] = status["containers"]
    assert (status["status"], row["image"], row["health"]) == ("critical", bad_image, "unhealthy")
    assert health(compose_web["port"]) is None
    back = run_module("workload", dict(args, operation="rollback"))
    assert back.get("failed") is not True, back
    assert (back["image"], back["previous_image"], back["status"]) == ("lab/busybox:1", bad_image, "ok")
    assert inspect(env, _container(compose_web))["Config"]["Image"] == "lab/busybox:1"
    assert health(compose_web["port"]) == "OK"
