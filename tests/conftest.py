"""Shared fixtures: the local lab's real services, and helpers to run modules and the CLI.

Integration tests talk to the lab started by `opsbook lab up` (the session fixture
starts it when it is not running: idempotent). They never stop the shared lab's
services; drills that need a dead endpoint use a closed port instead.
"""

from __future__ import annotations

import pytest

from tests.helpers import lab_state


def pytest_collection_modifyitems(session, config, items):
    # pytest's exit 5 ("no tests ran") must never be mistaken for a pass.
    if not items and not config.option.collectonly:
        raise pytest.UsageError("no tests were collected: check the test paths and -k/-m expressions")


@pytest.fixture(scope="session", autouse=True)
def state_dir(tmp_path_factory):
    """The suite's runs keep their reports and incident records in a temporary OPSBOOK_STATE_DIR,
    never in the user's ~/.local/state."""
    import os

    previous = os.environ.get("OPSBOOK_STATE_DIR")
    os.environ["OPSBOOK_STATE_DIR"] = str(tmp_path_factory.mktemp("state"))
    yield os.environ["OPSBOOK_STATE_DIR"]
    if previous is None:
        os.environ.pop("OPSBOOK_STATE_DIR", None)
    else:
        os.environ["OPSBOOK_STATE_DIR"] = previous


@pytest.fixture
def local_inventory(tmp_path):
    """An inventory of the test's own: host ``lab-local``, local connection, no service (its path is unique, so
    the test's Ansible processes and run locks are its own). For scenarios that need none: disk-space."""
    inv = tmp_path / "inventory"
    inv.mkdir()
    (inv / "hosts.yml").write_text(
        "all:\n  hosts:\n    lab-local:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: \"{{ ansible_playbook_python }}\"\n")
    return inv


@pytest.fixture(scope="session")
def lab():
    """The running lab's state (services with endpoints and passwords)."""
    from opsbook.lab.core import Lab

    Lab(log=lambda *_: None).up()
    return lab_state()


@pytest.fixture(scope="session")
def pg_params(lab):
    svc = lab["services"]["postgres"]
    return {
        "host": svc["host"],
        "port": svc["port"],
        "user": svc["user"],
        "password": svc["password"],
        "database": svc["database"],
        "sslmode": "disable",
        "connect_timeout": 3,
    }


@pytest.fixture(scope="session")
def redis_params(lab):
    svc = lab["services"]["redis"]
    return {
        "host": svc["host"],
        "port": svc["port"],
        "username": svc["user"],
        "password": svc["password"],
        "connect_timeout": 3.0,
    }


@pytest.fixture(scope="session")
def kafka_params(lab):
    svc = lab["services"]["kafka"]
    return {"bootstrap_servers": svc["bootstrap_servers"], "request_timeout": 5.0}


@pytest.fixture(scope="session")
def k8s_lab(lab):
    """The lab's Kubernetes (started if needed): kubeconfig path, server URL, API client.

    A real control plane built from k8s.io/kubernetes with a KWOK node: pods turn Running/Ready
    but no container runs. Create your objects in a namespace of your own and delete it.
    """
    from opsbook.lab.core import Lab
    from opsbook.lab.profiles import api_client_for

    Lab(log=lambda *_: None).up(extra=("kubernetes",))
    svc = lab_state()["services"]["kubernetes"]
    return {"kubeconfig": svc["kubeconfig"], "server": svc["server"], "node": svc["node"],
            "api_client": api_client_for(svc["kubeconfig"])}


@pytest.fixture(scope="session")
def docker_lab(lab):
    """The lab's Docker engine (started if needed): DOCKER_HOST, image, compose project.

    ``env`` is os.environ plus DOCKER_HOST, for subprocess calls of docker / docker-compose.
    """
    import os

    from opsbook.lab.core import Lab

    Lab(log=lambda *_: None).up(extra=("docker",))
    svc = lab_state()["services"]["docker"]
    return dict(svc, env=dict(os.environ, DOCKER_HOST=svc["docker_host"]))


@pytest.fixture(scope="session")
def prometheus_lab(lab):
    """The lab's Prometheus and lab API (started if needed): ``url``, ``api_url``, ports, jobs.

    Prometheus scrapes the lab API every second; both are shared and cumulative: send traffic
    to a route of your own (tests/integration/prom_seed.py).
    """
    from opsbook.lab.core import Lab

    Lab(log=lambda *_: None).up(extra=("prometheus",))
    return lab_state()["services"]["prometheus"]


@pytest.fixture(scope="session")
def alertmanager_lab():
    """The lab's Alertmanager and blackbox exporter, with its Prometheus (started if needed).

    ``url``, ``webhook_url`` (nothing listens there unless a test does), ``webhook_token_file``,
    ``blackbox_url``, ``tools`` (amtool) and ``prometheus`` (that service's state).
    Only these two services: it does not start PostgreSQL, Redis or Kafka.
    """
    from opsbook.lab.core import Lab

    Lab(log=lambda *_: None).up(["alertmanager"])
    services = lab_state()["services"]
    return dict(services["alertmanager"], prometheus=services["prometheus"])


@pytest.fixture
def redis_client(redis_params):
    """A redis-py client on the lab's Redis, database REDIS_TEST_DB (Redis drills' keys: `redist:<random>:*`)."""
    import redis

    from tests.helpers import REDIS_TEST_DB

    conn = redis.Redis(host=redis_params["host"], port=redis_params["port"], db=REDIS_TEST_DB,
                       username=redis_params["username"], password=redis_params["password"], socket_timeout=10)
    yield conn
    conn.close()


@pytest.fixture
def redis_prefix(redis_client):
    """A unique key prefix; every key under it is deleted afterwards."""
    import uuid

    import time

    import redis

    name = f"redist:{uuid.uuid4().hex[:8]}:"
    yield name
    for _attempt in range(30):  # another test may be restarting the shared Redis: wait for it, bounded
        try:
            keys = list(redis_client.scan_iter(match=name + "*", count=1000))
            if keys:
                redis_client.delete(*keys)
            return
        except redis.ConnectionError:
            time.sleep(1)
