"""The lab's Docker engine (Debian docker.io), its imported image and the conectsuite project."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid

import pytest

from tests.docker_cli import docker, health, inspect
from tests.helpers import closed_port, poll

pytestmark = pytest.mark.lab


def test_engine_answers_on_the_lab_socket(docker_lab):
    version = docker(docker_lab["env"], "version", "--format", "{{.Server.Version}}").strip()
    assert version.startswith("20.10."), version
    info = json.loads(docker(docker_lab["env"], "info", "--format", "{{json .}}"))
    assert info["DockerRootDir"].startswith(docker_lab["socket"].rsplit("/", 1)[0])


def test_imported_image_runs(docker_lab):
    out = docker(docker_lab["env"], "run", "--rm", "--network", "host", docker_lab["image"], "echo", "hello-lab")
    assert out == "hello-lab\n"


def test_container_is_stopped_and_started(docker_lab):
    env, port = docker_lab["env"], closed_port()
    name = f"dockerlab-{uuid.uuid4().hex[:8]}"
    docker(env, "run", "-d", "--name", name, "--network", "host", "--init", docker_lab["image"],
           "httpd", "-f", "-p", f"127.0.0.1:{port}", "-h", "/www")
    try:
        assert poll(lambda: health(port)) == "OK"
        docker(env, "stop", "-t", "5", name)
        state = inspect(env, name)["State"]
        assert (state["Status"], state["Running"]) == ("exited", False)
        assert health(port) is None
        docker(env, "start", name)
        assert inspect(env, name)["State"]["Status"] == "running"
        assert poll(lambda: health(port)) == "OK"
    finally:
        docker(env, "rm", "-f", name)


def test_conectsuite_backend_restarts_with_compose(docker_lab):
    compose = shutil.which("docker-compose")
    assert compose, "docker-compose is not installed"
    cmd = [compose, "-p", docker_lab["compose_project"], "-f", docker_lab["compose_file"]]
    ps = subprocess.run([*cmd, "ps", "-q", "backend"], env=docker_lab["env"], capture_output=True, text=True,
                        timeout=60)
    container = ps.stdout.strip()
    assert ps.returncode == 0 and container, ps.stderr
    before = inspect(docker_lab["env"], container)["State"]["StartedAt"]
    restart = subprocess.run([*cmd, "restart", "backend"], env=docker_lab["env"], capture_output=True, text=True,
                             timeout=60)
    assert restart.returncode == 0, restart.stderr
    after = inspect(docker_lab["env"], container)
    assert after["State"]["StartedAt"] != before
    assert after["HostConfig"]["NetworkMode"] == "host"
    assert poll(lambda: health(docker_lab["backend_port"])) == "OK"
