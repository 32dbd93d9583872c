"""The execution environment (execution-environment.yml), built and run the way AWX runs a job.

The image is built by scripts/build_ee.sh on the lab's Docker engine (Debian base from debootstrap,
ansible-builder 3); the health-check scenario then runs through ansible-runner twice with the same
inventory: on the controller, and with process isolation inside the image (``docker run
--network=host``, so the container reaches the lab's loopback services). Both runs must report the
same findings. Builds are slow (minutes): an image already in the lab's engine (OPSBOOK_EE_IMAGE,
default opsbook/ee:<galaxy.yml version>) is reused, and build_ee.sh caches its Debian rootfs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from opsbook.runner import EventCollector, RunResult
from tests.docker_cli import docker
from tests.helpers import REPO

pytestmark = [pytest.mark.lab, pytest.mark.slow]

VERSION = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
IMAGE = os.environ.get("OPSBOOK_EE_IMAGE") or f"opsbook/ee:{VERSION}"
PLAYBOOK = "opsbook.runbooks.health_check"  # the collection's playbook, as an AWX job template names it


@pytest.fixture(scope="module")
def ee_image(docker_lab):
    """The EE image in the lab's engine: built by scripts/build_ee.sh unless already there."""
    env = docker_lab["env"]
    if subprocess.run(["docker", "image", "inspect", IMAGE], env=env, capture_output=True, timeout=30).returncode:
        build = subprocess.run([str(REPO / "scripts" / "build_ee.sh")], env=dict(env, OPSBOOK_EE_IMAGE=IMAGE),
                               capture_output=True, text=True, timeout=1800, cwd=REPO)
        assert build.returncode == 0, build.stderr[-4000:]
        assert build.stdout.strip().splitlines()[-1] == IMAGE
    return IMAGE


def _inventory(lab, path: Path) -> Path:
    """The lab's PostgreSQL, Redis and Kafka for one local host, connection values spelled out
    (an AWX inventory: no lab lookup, which reads the lab's state file, not in the container).
    A file (0600), so that no traceback prints the passwords."""
    pg, redis, kafka = (lab["services"][s] for s in ("postgres", "redis", "kafka"))
    inventory = {"all": {"hosts": {"lab-local": {
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "opsbook_postgres": {"host": pg["host"], "port": pg["port"], "user": pg["user"], "password": pg["password"],
                             "database": pg["database"], "sslmode": "disable", "connect_timeout": 3},
        "opsbook_redis": {"host": redis["host"], "port": redis["port"], "username": redis["user"],
                          "password": redis["password"], "connect_timeout": 3},
        "opsbook_kafka": {"bootstrap_servers": kafka["bootstrap_servers"], "request_timeout": 5},
    }}}}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(inventory, handle)
    return path


def _run(private: Path, inventory: Path, image: str | None = None) -> tuple:
    """ansible-runner on PLAYBOOK in ``private``; inside ``image`` (process isolation) when given."""
    import ansible_runner

    (private / "inventory").mkdir(parents=True)
    shutil.copy(inventory, private / "inventory" / "hosts.json")  # mounted at /runner/inventory in the container
    result = RunResult("health-check", [str(inventory)], False, False, started=time.time())
    if image:
        kwargs = {"process_isolation": True, "process_isolation_executable": "docker", "container_image": image,
                  "container_options": ["--network=host"]}
    else:  # the controller: this venv's ansible-playbook first on PATH
        kwargs = {"envvars": {"PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}}
    runner = ansible_runner.run(private_data_dir=str(private), playbook=PLAYBOOK, quiet=True, timeout=600,
                                event_handler=EventCollector(result), **kwargs)
    stdout = runner.stdout.read() if runner.stdout else ""
    return runner, result, stdout


def _verdicts(result: RunResult) -> list[tuple]:
    """What the run found, without measured values (latencies differ between two runs)."""
    return sorted((f["host"], f["check"], f["status"], f.get("state"), f.get("target"), f.get("unit"),
                   json.dumps(f.get("threshold"), sort_keys=True)) for f in result.findings)


def test_health_check_inside_the_ee_finds_what_the_controller_finds(lab, docker_lab, ee_image, tmp_path, monkeypatch):
    inventory = _inventory(lab, tmp_path / "hosts.json")
    outside, outside_result, outside_out = _run(tmp_path / "controller", inventory)
    # the docker CLI that ansible-runner spawns (with os.environ) talks to the lab's engine; runner adds --rm
    monkeypatch.setenv("DOCKER_HOST", docker_lab["docker_host"])
    inside, inside_result, inside_out = _run(tmp_path / "ee", inventory, ee_image)
    assert (outside.status, outside.rc) == ("successful", 0), outside_out[-3000:]
    assert (inside.status, inside.rc) == ("successful", 0), inside_out[-3000:]
    checks = {f["check"]: f["status"] for f in inside_result.findings}
    for check in ("postgres_reachable", "redis_reachable", "kafka_reachable"):
        assert checks.get(check) == "ok", (check, inside_result.findings)
    assert _verdicts(inside_result) == _verdicts(outside_result)
    # the play really ran in the image: the container's Python, not this venv's
    command = json.loads(next((tmp_path / "ee" / "artifacts").glob("*/command")).read_text())["command"]
    assert command[:2] == ["docker", "run"] and ee_image in command and "--network=host" in command
    for secret in (lab["services"]["postgres"]["password"], lab["services"]["redis"]["password"]):
        assert secret not in inside_out


def test_ee_holds_the_collection_its_python_packages_and_client_tools(docker_lab, ee_image):
    """What ansible-builder introspected from meta/execution-environment.yml is in the image."""
    script = ("import importlib.metadata as m, ansible, ansible_runner; "
              "print(ansible.__version__, *(m.version(p) for p in ('confluent-kafka', 'psycopg2-binary', 'redis')))")
    versions = docker(docker_lab["env"], "run", "--rm", "--network=host", ee_image, "python3", "-c", script).split()
    assert versions[0].startswith("2.19."), versions
    collections = docker(docker_lab["env"], "run", "--rm", ee_image, "ansible-galaxy", "collection", "list",
                         "opsbook.runbooks", "--format", "json")
    found = {name: data["version"] for path in json.loads(collections).values() for name, data in path.items()}
    assert found == {"opsbook.runbooks": VERSION}
    tools = docker(docker_lab["env"], "run", "--rm", ee_image, "sh", "-c", "pg_dump --version; redis-cli --version")
    assert "pg_dump (PostgreSQL)" in tools and "redis-cli" in tools
