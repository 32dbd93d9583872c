"""Seed profiles as data, and the optional services' missing-tool messages (no services needed)."""

from __future__ import annotations

import pytest

from opsbook.lab.base import LabContext, LabError, MissingTool
from opsbook.lab.docker import Docker
from opsbook.lab.kubernetes import Kubernetes
from opsbook.lab.profiles import available_profiles, kubernetes_manifests, load_profile


def test_every_profile_loads_and_names_the_services_it_needs():
    assert available_profiles() == ["conectsuite", "etl", "mlbling", "techbra"]
    needs = {name: load_profile(name).services for name in available_profiles()}
    assert needs == {"conectsuite": ("docker",), "etl": (), "mlbling": ("kubernetes",), "techbra": ("kubernetes",)}


def test_unknown_profile_is_one_error_naming_the_option():
    with pytest.raises(LabError, match=r"^--profile: unknown profile 'nope' \(known: conectsuite, etl, mlbling, techbra\)$"):
        load_profile("nope")


def test_techbra_manifests():
    (namespace,) = load_profile("techbra").data["kubernetes"]
    objs = kubernetes_manifests(namespace)
    kinds = [(o["kind"], o["metadata"]["name"]) for o in objs]
    assert kinds == [("Namespace", "techbra-test"), ("Deployment", "order-service"), ("Deployment", "billing-service"),
                     ("Deployment", "inventory-service"), ("Deployment", "bff"), ("StatefulSet", "kafka"),
                     ("ConfigMap", "order-service-config")]
    order = objs[1]
    assert order["spec"]["replicas"] == 2
    assert order["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "order-service"}
    assert objs[5]["spec"]["serviceName"] == "kafka"


@pytest.mark.parametrize("service, tool", [(Kubernetes, "etcd"), (Docker, "dockerd")])
def test_missing_tool_is_one_line_naming_the_package(service, tool, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    ctx = LabContext(lab_dir=tmp_path / "lab", cache_dir=tmp_path / "cache")
    monkeypatch.setattr(Docker, "dockerd_candidates", ())  # the Debian path is tried before PATH
    svc = service(ctx)
    with pytest.raises(MissingTool) as err:
        svc.check_tools()
    assert len(str(err.value).splitlines()) == 1
    assert str(err.value).startswith(f"{tool} not found: install it with `apt-get install -y")
