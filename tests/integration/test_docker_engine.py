"""module_utils.docker_engine against the lab's real Docker engine (answers compared with the docker CLI)."""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.docker import common as docker_engine
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput, ServiceError, ServiceUnreachable
from tests.docker_cli import docker
from tests.helpers import closed_port, poll

pytestmark = pytest.mark.lab


@pytest.fixture
def engine(docker_lab):
    return docker_engine.Engine(docker_lab["docker_host"], timeout=10)


@pytest.fixture
def project(docker_lab):
    """A unique compose project name; every container carrying it is removed afterwards."""
    name = f"wlde{uuid.uuid4().hex[:8]}"
    yield name
    ids = docker(docker_lab["env"], "ps", "-aq", "--filter", f"label={docker_engine.PROJECT_LABEL}={name}").split()
    if ids:
        docker(docker_lab["env"], "rm", "-f", *ids)


def _config(docker_lab, project, service, number, cmd):
    return {"Image": docker_lab["image"], "Cmd": cmd,
            "Labels": {docker_engine.PROJECT_LABEL: project, docker_engine.SERVICE_LABEL: service,
                       docker_engine.NUMBER_LABEL: str(number)},
            "HostConfig": {"NetworkMode": "host", "Init": True}}


def test_version_is_the_cli_answer(docker_lab, engine):
    cli = docker(docker_lab["env"], "version", "--format", "{{.Server.Version}} {{.Server.APIVersion}}").split()
    version = engine.version()
    assert [version["Version"], version["ApiVersion"]] == cli


def test_compose_containers_are_the_ones_docker_ps_lists(docker_lab, engine):
    project = docker_lab["compose_project"]
    for service in ("backend", "postgres"):
        cli = docker(docker_lab["env"], "ps", "-aq", "--no-trunc", "--filter", f"label={docker_engine.PROJECT_LABEL}={project}",
                     "--filter", f"label={docker_engine.SERVICE_LABEL}={service}").split()
        found = engine.containers(project=project, service=service)
        assert [c["Id"] for c in found] == cli and len(cli) == 1
        info = engine.inspect(cli[0])
        state = docker_engine.container_state(info)
        assert (state["service"], state["image"], state["running"]) == (service, docker_lab["image"], True)
        assert state["restarts"] == json.loads(docker(docker_lab["env"], "inspect", cli[0]))[0]["RestartCount"]


def test_lifecycle_create_start_stop_restart_rename_remove(docker_lab, engine, project):
    env = docker_lab["env"]
    first = engine.create(f"{project}_web_1", _config(docker_lab, project, "web", 1, ["sleep", "300"]))
    second = engine.create(f"{project}_web_2", _config(docker_lab, project, "web", 2, ["sleep", "300"]))
    engine.create(f"{project}_db_1", _config(docker_lab, project, "db", 1, ["sleep", "300"]))
    listed = engine.containers(project=project, service="web")
    assert [c["Id"] for c in listed] == [first, second]
    assert len(engine.containers(project=project)) == 3
    assert engine.containers(project=project, service="web", include_stopped=False) == []

    engine.start(first)
    engine.start(first)  # already running: 304, not an error
    cli = json.loads(docker(env, "inspect", first))[0]
    assert cli["State"]["Status"] == "running" == engine.inspect(first)["State"]["Status"]
    started = cli["State"]["StartedAt"]
    engine.restart(first, stop_timeout=5)
    after = engine.inspect(first)["State"]
    assert after["Status"] == "running" and after["StartedAt"] != started
    engine.stop(first, stop_timeout=5)
    engine.stop(first, stop_timeout=5)  # already stopped: 304
    assert json.loads(docker(env, "inspect", first))[0]["State"]["Status"] == "exited"

    engine.rename(second, f"{project}_web_old")
    assert docker(env, "inspect", "--format", "{{.Name}}", second).strip() == f"/{project}_web_old"
    engine.remove(second)
    assert [c["Id"] for c in engine.containers(project=project, service="web")] == [first]
    with pytest.raises(ServiceError) as err:
        engine.inspect(second)
    assert str(err.value) == f"container {second} not found"


def test_logs_are_demultiplexed_and_since_is_inclusive(docker_lab, engine, project):
    env = docker_lab["env"]
    cmd = ["sh", "-c", "echo out-1; echo err-1 >&2; sleep 1; echo out-2; echo err-2 >&2"]
    cid = engine.create(f"{project}_logs_1", _config(docker_lab, project, "logs", 1, cmd))
    engine.start(cid)
    poll(lambda: engine.inspect(cid)["State"]["Status"] == "exited", timeout=30)
    cli = subprocess.run(["docker", "logs", cid], env=env, capture_output=True, text=True, timeout=60, check=True)
    lines = engine.logs(cid)
    assert [row["line"] for row in lines if row["stream"] == "stdout"] == cli.stdout.splitlines() == ["out-1", "out-2"]
    assert [row["line"] for row in lines if row["stream"] == "stderr"] == cli.stderr.splitlines() == ["err-1", "err-2"]
    assert engine.logs(cid, tail=1)[-1]["line"] in ("out-2", "err-2")
    stamped = engine.logs(cid, timestamps=True)
    # out-2 was written at least 1 s after err-1: from its whole second on, only the second half is left
    stamp = next(row["line"].split(" ", 1)[0] for row in stamped if row["line"].endswith("out-2"))
    import datetime
    second = int(datetime.datetime.fromisoformat(stamp[:19] + "+00:00").timestamp())
    assert sorted(row["line"] for row in engine.logs(cid, since=second)) == ["err-2", "out-2"]


def test_demultiplex_frames_and_tty_data():
    framed = b"\x01\x00\x00\x00\x00\x00\x00\x06hello\n" + b"\x02\x00\x00\x00\x00\x00\x00\x04oops" + \
        b"\x02\x00\x00\x00\x00\x00\x00\x02!\n"
    assert docker_engine.log_lines(docker_engine.demultiplex(framed)) == [
        {"stream": "stdout", "line": "hello"}, {"stream": "stderr", "line": "oops!"}]
    assert docker_engine.demultiplex(b"plain tty text\n") == [("stdout", b"plain tty text\n")]


def test_unreachable_engine_and_bad_address(tmp_path):
    with pytest.raises(ServiceUnreachable) as err:
        docker_engine.Engine(f"unix://{tmp_path}/none.sock", timeout=2).version()
    assert str(err.value).startswith(f"Docker engine at unix://{tmp_path}/none.sock is unreachable: ")
    port = closed_port()
    with pytest.raises(ServiceUnreachable) as err:
        docker_engine.Engine(f"tcp://127.0.0.1:{port}", timeout=2).containers()
    assert str(err.value).startswith(f"Docker engine at tcp://127.0.0.1:{port} is unreachable: ")
    with pytest.raises(InvalidInput) as err:
        docker_engine.Engine("ssh://user:pw@host")
    assert str(err.value) == "docker_host: expected unix:///path/to/docker.sock or tcp://host:port, got 'ssh://user:********@host'"


def test_default_address_comes_from_docker_host(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2999")
    assert docker_engine.Engine().address == ("127.0.0.1", 2999)
    monkeypatch.delenv("DOCKER_HOST")
    assert docker_engine.Engine().address == "/var/run/docker.sock"


def test_missing_image_is_named(engine):
    with pytest.raises(ServiceError) as err:
        engine.image("lab/absent:0")
    assert str(err.value) == "image lab/absent:0 not found on the engine (pull or load it first)"
