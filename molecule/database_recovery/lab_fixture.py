"""Set up / damage / tear down what the database_recovery molecule scenario works on (lab services only)."""

from __future__ import annotations

import sys
import time
from contextlib import closing

import psycopg2
from kubernetes import client, config

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.labinfo import read_state

DB, NS, WORKLOADS = "dbrm_molecule", "dbrm-molecule", {"backend": 2, "worker": 1}


def _pg(dbname):
    svc = read_state(with_secrets=True)["services"]["postgres"]
    conn = psycopg2.connect(host=svc["host"], port=svc["port"], user=svc["user"], password=svc["password"],
                            dbname=dbname or svc["database"], connect_timeout=5)
    conn.autocommit = True
    return conn


def _k8s():
    return config.new_client_from_config(config_file=read_state()["services"]["kubernetes"]["kubeconfig"])


def setup():
    with closing(_pg(None)) as admin, admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{DB}"')
    with closing(_pg(DB)) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE pedidos (id serial PRIMARY KEY, v text NOT NULL); "
                    "INSERT INTO pedidos (v) SELECT 'pedido ' || g FROM generate_series(1, 30) g")
    api = _k8s()
    client.CoreV1Api(api).create_namespace({"metadata": {"name": NS}}, _request_timeout=10)
    for name, replicas in WORKLOADS.items():
        labels = {"app.kubernetes.io/name": name}
        client.AppsV1Api(api).create_namespaced_deployment(NS, {
            "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": name, "image": f"lab.local/{name}:1"}]}}}},
            _request_timeout=10)


def damage():
    with closing(_pg(DB)) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM pedidos WHERE id > 20")


def teardown():
    with closing(_pg(None)) as admin, admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    core = client.CoreV1Api(_k8s())
    try:
        core.delete_namespace(NS, _request_timeout=10)
    except client.ApiException as exc:
        if exc.status != 404:
            raise
    for _ in range(120):  # bounded: a namespace is finalized within seconds
        if NS not in [n.metadata.name for n in core.list_namespace(_request_timeout=10).items]:
            return
        time.sleep(1)
    raise SystemExit(f"namespace {NS} still exists after 120 s")


if __name__ == "__main__":
    {"setup": setup, "damage": damage, "teardown": teardown}[sys.argv[1]]()
