"""Seed profiles: a system's topology as data (profiles/<name>.yml), applied by one function.

A profile may hold ``docker`` (needs the engine and its compose project), ``kubernetes``
(namespaces with deployments, statefulsets, configmaps, secrets), ``kafka`` (topics),
``postgres`` (databases with idempotent SQL) and ``redis`` (lists, seeded when empty). Applying is idempotent: objects are created or patched,
topics and databases created when missing. Pods run on the KWOK node: they turn
Running/Ready, but no container actually runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import common as kafka_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.redis import common as redis_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import common as pg
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import OpsbookError
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.labinfo import read_state

from .base import LabError, wait_for

PROFILE_DIR = Path(__file__).with_name("profiles")
# profile section -> the optional lab service it needs (None: a default service)
SECTIONS = {"kubernetes": "kubernetes", "docker": "docker", "kafka": None, "postgres": None, "redis": None}
LABEL = "app.kubernetes.io/name"


@dataclass
class Profile:
    name: str
    data: dict
    services: tuple[str, ...] = field(default=())


def available_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yml"))


def load_profile(name: str) -> Profile:
    path = PROFILE_DIR / f"{name}.yml"
    if not path.exists():
        raise LabError(f"--profile: unknown profile '{name}' (known: {', '.join(available_profiles())})")
    data = yaml.safe_load(path.read_text()) or {}
    unknown = set(data) - set(SECTIONS) - {"name", "description"}
    if unknown:
        raise LabError(f"profile {path}: unknown section(s) {', '.join(sorted(unknown))}")
    services = tuple(svc for key, svc in SECTIONS.items() if svc and data.get(key))
    return Profile(name=name, data=data, services=services)


# --- Kubernetes ------------------------------------------------------------------------------
def _pod_template(name: str, spec: dict) -> dict:
    container = {"name": name, "image": spec.get("image", f"lab.local/{name}:1.0.0")}
    if spec.get("port"):
        container["ports"] = [{"containerPort": int(spec["port"])}]
    return {"metadata": {"labels": {LABEL: name, "app": name}},
            "spec": {"containers": [container], "terminationGracePeriodSeconds": 0}}


def kubernetes_manifests(namespace_spec: dict) -> list[dict]:
    """The objects one namespace entry of a profile stands for."""
    ns = namespace_spec["namespace"]
    meta = {"namespace": ns, "labels": {"opsbook.lab/profile": "true"}}
    objs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}]
    for kind, key in (("Deployment", "deployments"), ("StatefulSet", "statefulsets")):
        for spec in namespace_spec.get(key, []):
            name = spec["name"]
            body = {"replicas": int(spec.get("replicas", 1)), "selector": {"matchLabels": {LABEL: name}},
                    "template": _pod_template(name, spec)}
            if kind == "StatefulSet":
                body["serviceName"] = name
            objs.append({"apiVersion": "apps/v1", "kind": kind, "metadata": dict(meta, name=name), "spec": body})
    for spec in namespace_spec.get("configmaps", []):
        objs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": dict(meta, name=spec["name"]),
                     "data": {k: str(v) for k, v in spec.get("data", {}).items()}})
    for spec in namespace_spec.get("secrets", []):
        objs.append({"apiVersion": "v1", "kind": "Secret", "metadata": dict(meta, name=spec["name"]),
                     "type": "Opaque", "stringData": {k: str(v) for k, v in spec.get("data", {}).items()}})
    return objs


def apply_objects(api_client, objs: list[dict]) -> None:
    """Create each object, or patch it when it exists (server-side merge)."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    ops = {
        "Namespace": (core.create_namespace, core.patch_namespace, False),
        "ConfigMap": (core.create_namespaced_config_map, core.patch_namespaced_config_map, True),
        "Secret": (core.create_namespaced_secret, core.patch_namespaced_secret, True),
        "Deployment": (apps.create_namespaced_deployment, apps.patch_namespaced_deployment, True),
        "StatefulSet": (apps.create_namespaced_stateful_set, apps.patch_namespaced_stateful_set, True),
    }
    for obj in objs:
        create, patch, namespaced = ops[obj["kind"]]
        ns = (obj["metadata"]["namespace"],) if namespaced else ()
        try:
            create(*ns, obj, _request_timeout=10)
        except ApiException as exc:
            if exc.status != 409:
                raise LabError(f"creating {obj['kind']} {obj['metadata']['name']}: {exc.status} {exc.reason}") from None
            patch(obj["metadata"]["name"], *ns, obj, _request_timeout=10)


def workloads_ready(api_client, objs: list[dict]) -> bool:
    from kubernetes import client

    apps = client.AppsV1Api(api_client)
    for obj in objs:
        if obj["kind"] not in ("Deployment", "StatefulSet"):
            continue
        read = apps.read_namespaced_deployment if obj["kind"] == "Deployment" else apps.read_namespaced_stateful_set
        live = read(obj["metadata"]["name"], obj["metadata"]["namespace"], _request_timeout=5)
        if (live.status.ready_replicas or 0) != obj["spec"]["replicas"] or (
                live.status.observed_generation or 0) < live.metadata.generation:
            return False
    return True


def api_client_for(kubeconfig: str):
    from kubernetes import config

    return config.new_client_from_config(config_file=kubeconfig)


# --- data services ---------------------------------------------------------------------------
def _apply_kafka(svc: dict, section: dict) -> int:
    from confluent_kafka.admin import NewTopic

    params = {"bootstrap_servers": svc["bootstrap_servers"], "request_timeout": 10.0}
    admin = kafka_common.admin_client(params)
    existing = set(admin.list_topics(timeout=10).topics)
    wanted = [NewTopic(t["name"], num_partitions=int(t.get("partitions", 1)), replication_factor=1)
              for t in section.get("topics", []) if t["name"] not in existing]
    for topic, future in (admin.create_topics(wanted, request_timeout=10).items() if wanted else []):
        try:
            future.result(timeout=15)
        except Exception as exc:  # an already-existing topic raced in: fine
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise LabError(f"creating Kafka topic {topic}: {exc}") from None
    return len(section.get("topics", []))


def _apply_postgres(svc: dict, section: dict) -> int:
    params = {"host": svc["host"], "port": svc["port"], "user": svc["user"], "password": svc["password"],
              "database": svc["database"], "sslmode": "disable", "connect_timeout": 5}
    for db in section.get("databases", []):
        with pg.connection(params) as conn:
            if not pg.query_one(conn, "SELECT 1 AS x FROM pg_database WHERE datname = %s", (db["name"],)):
                pg.query(conn, f'CREATE DATABASE "{db["name"]}"')
        with pg.connection(dict(params, database=db["name"])) as conn:
            # like the lab's own database, so health-check's pg_stat_statements check is OK there
            pg.query(conn, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            if db.get("sql"):
                pg.query(conn, db["sql"])
    return len(section.get("databases", []))


def _apply_redis(svc: dict, section: dict) -> int:
    client = redis_common.connect({"host": svc["host"], "port": svc["port"], "username": svc["user"],
                                   "password": svc["password"], "connect_timeout": 5.0})
    for entry in section.get("lists", []):
        # SCAN, not LLEN/EXISTS: a read of a missing key is a keyspace miss and would
        # pull the lab's hit rate (a health-check finding) down.
        if not any(True for _ in client.scan_iter(match=entry["key"], count=1000)):
            client.rpush(entry["key"], *entry.get("items", []))
    return len(section.get("lists", []))


def apply_profile(lab, profile: Profile, timeout: float = 90) -> str:
    """Apply ``profile`` to the running ``lab``; wait until its workloads are Ready."""
    started = time.monotonic()
    state = read_state(str(lab.dir), with_secrets=True)["services"]
    data, done = profile.data, []
    try:
        for key, func in (("postgres", _apply_postgres), ("redis", _apply_redis), ("kafka", _apply_kafka)):
            if data.get(key):
                done.append(f"{func(state[key], data[key])} {key} item(s)")
    except OpsbookError as exc:
        raise LabError(f"profile {profile.name}: {exc}") from None
    if data.get("docker"):  # the docker service's start brought the compose project up and healthy
        done.append(f"compose project {state['docker']['compose_project']} up")
    if data.get("kubernetes"):
        api = api_client_for(state["kubernetes"]["kubeconfig"])
        objs = [obj for ns in data["kubernetes"] for obj in kubernetes_manifests(ns)]
        apply_objects(api, objs)
        wait_for(lambda: workloads_ready(api, objs), timeout, f"profile {profile.name}'s workloads Ready",
                 interval=0.5)
        done.append(f"{len(objs)} Kubernetes object(s), workloads Ready")
    return f"{', '.join(done)} in {time.monotonic() - started:.1f}s"
