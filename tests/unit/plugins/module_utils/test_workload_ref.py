"""The one workload reference form (module_utils.workload.ref), shared by the workload and log_scan modules and the filter."""

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.workload.ref import apply_ref, parse_ref, parse_refs, ref_label


@pytest.mark.parametrize("value, expected, label", [
    ("order-service", {"kind": "kubernetes", "name": "order-service"}, "deployment/order-service"),
    (" order-service ", {"kind": "kubernetes", "name": "order-service"}, "deployment/order-service"),
    ("deployment/worker", {"kind": "kubernetes", "resource": "deployment", "name": "worker"}, "deployment/worker"),
    ("deploy/worker", {"kind": "kubernetes", "resource": "deployment", "name": "worker"}, "deployment/worker"),
    ("statefulset/kafka", {"kind": "kubernetes", "resource": "statefulset", "name": "kafka"}, "statefulset/kafka"),
    ("STS/kafka", {"kind": "kubernetes", "resource": "statefulset", "name": "kafka"}, "statefulset/kafka"),
    ("kubernetes/bff", {"kind": "kubernetes", "name": "bff"}, "deployment/bff"),
    ("compose/backend", {"kind": "compose", "name": "backend"}, "compose/backend"),
    ("systemd/etl-service", {"kind": "systemd", "name": "etl-service"}, "systemd/etl-service"),
    ("systemd/etl.timer", {"kind": "systemd", "name": "etl.timer"}, "systemd/etl.timer"),
    ({"name": "backend"}, {"kind": "kubernetes", "name": "backend"}, "deployment/backend"),
    ({"name": "backend", "namespace": "production"}, {"kind": "kubernetes", "name": "backend", "namespace": "production"},
     "production/deployment/backend"),
    ({"kind": "kubernetes", "name": "kafka", "resource": "sts"}, {"kind": "kubernetes", "name": "kafka", "resource": "statefulset"},
     "statefulset/kafka"),
    ({"kind": "compose", "name": "backend", "project": "conectsuite", "docker_host": "unix:///d.sock"},
     {"kind": "compose", "name": "backend", "project": "conectsuite", "docker_host": "unix:///d.sock"}, "conectsuite/compose/backend"),
    ({"kind": "compose", "name": "backend", "project": "", "namespace": None}, {"kind": "compose", "name": "backend"},
     "compose/backend"),
    ({"name": "order-service", "replicas": "3"}, {"kind": "kubernetes", "name": "order-service", "replicas": 3},
     "deployment/order-service"),
    ({"kind": "systemd", "name": "etl", "label": "systemd/etl"}, {"kind": "systemd", "name": "etl"}, "systemd/etl"),
])
def test_parse_ref(value, expected, label):
    ref = parse_ref(value)
    assert ref == expected
    assert ref_label(ref) == label
    assert parse_ref(dict(ref, label=label)) == ref  # a parsed reference (with its label) parses to itself


@pytest.mark.parametrize("value, message", [
    ("pod/worker", "api_down_app: unknown prefix 'pod' in 'pod/worker' (use one of compose, deploy, deployment"),
    ("", "api_down_app: a workload needs a name"),
    ("compose/", "api_down_app: a workload needs a name"),
    ("compose/a/b", "api_down_app: a workload needs a name (without /)"),
    ({"name": "x", "replica": 3}, "api_down_app: unknown key(s) replica (known: kind, name, resource"),
    ({"namespace": "x"}, "api_down_app: a workload needs a name"),
    ({"name": 3}, "api_down_app: a workload needs a name"),
    ({"name": "x", "kind": "nomad"}, "api_down_app: kind must be one of kubernetes, compose, systemd, got 'nomad'"),
    ({"name": "x", "resource": "daemonset"}, "api_down_app: resource must be deployment or statefulset, got 'daemonset'"),
    ({"name": "x", "kind": "systemd", "resource": "statefulset"}, "api_down_app: resource is for kind kubernetes, not systemd"),
    ({"name": "x", "kind": "compose", "namespace": "prod"}, "api_down_app: namespace is for kind kubernetes, not compose"),
    ({"name": "x", "project": "p"}, "api_down_app: project is for kind compose, not kubernetes"),
    ({"name": "x", "replicas": "many"}, "api_down_app: replicas must be a whole number, got 'many'"),
    ({"name": "x", "replicas": -1}, "api_down_app: replicas must be 0 or more, got -1"),
    (3, "api_down_app: expected a string such as deployment/api, compose/backend or systemd/etl, or a dict, got 3"),
    (["a"], "api_down_app: expected a string"),
])
def test_bad_reference_names_the_option(value, message):
    with pytest.raises(InvalidInput) as err:
        parse_ref(value, "api_down_app")
    assert str(err.value).startswith(message)


@pytest.mark.parametrize("value, names", [
    (None, []), ("", []), ({}, []), ([], []),
    ("worker", ["worker"]),
    (["a", None, "", "compose/b", {"name": "c"}], ["a", "b", "c"]),
])
def test_parse_refs(value, names):
    assert [ref["name"] for ref in parse_refs(value)] == names


def test_parse_refs_names_the_item():
    with pytest.raises(InvalidInput, match=r"^queue_backlog_workers\[1\]: unknown prefix 'pod'"):
        parse_refs(["worker", "pod/x"], "queue_backlog_workers")


MODULE = {"ref": None, "kind": None, "name": None, "resource": "deployment", "namespace": "techbra-test",
          "project": "conectsuite", "docker_host": "unix:///d.sock", "replicas": None}


@pytest.mark.parametrize("ref, expected", [
    ("order-service", {"kind": "kubernetes", "name": "order-service", "resource": "deployment", "namespace": "techbra-test"}),
    ("statefulset/kafka", {"kind": "kubernetes", "name": "kafka", "resource": "statefulset", "namespace": "techbra-test"}),
    ({"name": "x", "namespace": "own"}, {"kind": "kubernetes", "name": "x", "namespace": "own"}),
    ("compose/backend", {"kind": "compose", "name": "backend", "project": "conectsuite", "docker_host": "unix:///d.sock"}),
    ({"kind": "compose", "name": "api", "project": "sparkone"}, {"kind": "compose", "name": "api", "project": "sparkone"}),
    ({"name": "w", "replicas": 3}, {"kind": "kubernetes", "name": "w", "replicas": None}),  # the module's replicas stay explicit
])
def test_apply_ref_the_reference_wins_over_the_module_options(ref, expected):
    params = apply_ref(dict(MODULE, ref=ref))
    assert dict((k, params[k]) for k in expected) == expected


def test_apply_ref_without_a_reference_needs_kind_and_name():
    assert apply_ref(dict(MODULE, kind="systemd", name="etl"))["name"] == "etl"
    with pytest.raises(InvalidInput, match=r"^ref, name: give the workload as ref"):
        apply_ref(MODULE)
    with pytest.raises(InvalidInput, match=r"^kind: required with name"):
        apply_ref(dict(MODULE, name="etl"))
    with pytest.raises(InvalidInput, match=r"^ref, name: give the workload once"):
        apply_ref(dict(MODULE, ref="compose/backend", name="backend"))
    with pytest.raises(InvalidInput, match=r"^ref: unknown prefix"):
        apply_ref(dict(MODULE, ref="pod/x"))


@pytest.mark.parametrize("params, tool, cmd", [
    ({}, "systemctl", ["systemctl"]),
    ({"systemd_scope": "system", "systemd_sudo": False}, "systemctl", ["systemctl"]),
    ({"systemd_scope": "user"}, "systemctl", ["systemctl", "--user"]),
    ({"systemd_sudo": True}, "journalctl", ["sudo", "-n", "journalctl"]),
    ({"systemd_sudo": True, "systemd_scope": "user"}, "journalctl", ["sudo", "-n", "journalctl", "--user"]),
])
def test_systemd_options_shape_the_command(params, tool, cmd):
    from ansible_collections.opsbook.runbooks.plugins.module_utils.workload.systemd_backend import command
    assert command(tool, params) == cmd


@pytest.mark.parametrize("name, suffix, unit", [
    ("etl", ".service", "etl.service"), ("etl", "timer", "etl.timer"), ("etl.socket", ".service", "etl.socket"), ("etl", "", "etl"),
])
def test_systemd_unit_suffix(name, suffix, unit):
    from ansible_collections.opsbook.runbooks.plugins.module_utils.workload.systemd_backend import unit_name
    assert unit_name(name, suffix) == unit
