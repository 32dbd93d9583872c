import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.opsbook.runbooks.plugins.filter.workload import FilterModule

REFS = FilterModule().filters()["workload_refs"]
SKIPPED = FilterModule().filters()["workload_skipped"]


@pytest.mark.parametrize("value, kwargs, expected", [
    ("", {}, []),
    ({}, {}, []),
    (None, {}, []),
    ("worker", {"namespace": "production"},
     [{"kind": "kubernetes", "name": "worker", "namespace": "production", "label": "kubernetes/production/worker"}]),
    ("deployment/worker", {}, [{"kind": "kubernetes", "name": "worker", "label": "kubernetes/worker"}]),
    ("statefulset/kafka", {"namespace": "techbra-test"},
     [{"kind": "kubernetes", "resource": "statefulset", "name": "kafka", "namespace": "techbra-test",
       "label": "kubernetes/techbra-test/statefulset/kafka"}]),
    ("etl-service", {"kind": "systemd", "namespace": "ignored"},
     [{"kind": "systemd", "name": "etl-service", "label": "systemd/etl-service"}]),
    ("compose/backend", {"namespace": "ignored"}, [{"kind": "compose", "name": "backend", "label": "compose/backend"}]),
    ([{"name": "order-service", "replicas": "3"}, {"name": "billing-service", "replicas": 2, "namespace": "other"}],
     {"namespace": "techbra-test"},
     [{"kind": "kubernetes", "name": "order-service", "replicas": 3, "namespace": "techbra-test",
       "label": "kubernetes/techbra-test/order-service"},
      {"kind": "kubernetes", "name": "billing-service", "replicas": 2, "namespace": "other",
       "label": "kubernetes/other/billing-service"}]),
    ({"kind": "compose", "name": "backend", "project": "conectsuite", "namespace": ""}, {},
     [{"kind": "compose", "name": "backend", "project": "conectsuite", "label": "compose/backend"}]),
])
def test_workload_refs(value, kwargs, expected):
    assert REFS(value, **kwargs) == expected


@pytest.mark.parametrize("value, message", [
    ("pod/worker", "queue_backlog_workers: unknown prefix 'pod' in 'pod/worker'"),
    ({"name": "x", "replica": 3}, "queue_backlog_workers: unknown key(s) replica"),
    ({"namespace": "x"}, "queue_backlog_workers: a workload needs a name"),
    ({"name": "x", "kind": "nomad"}, "queue_backlog_workers: kind must be one of kubernetes, compose, systemd, got 'nomad'"),
    ({"name": "x", "kind": "systemd", "resource": "statefulset"}, "queue_backlog_workers: resource 'statefulset': only"),
    (3, "queue_backlog_workers: expected a string or a dict, got 3"),
])
def test_bad_reference_names_the_option(value, message):
    with pytest.raises(AnsibleFilterError) as err:
        REFS(value, option="queue_backlog_workers")
    assert str(err.value).startswith(message)


def test_connection_dictionaries_fill_what_the_reference_and_the_role_leave_out():
    defaults = {"kubeconfig": "/k", "namespace": "techbra-test", "docker_host": "unix:///d.sock", "compose_project": "conectsuite"}
    assert REFS(["order-service", "compose/backend", "systemd/etl"], defaults=defaults) == [
        {"kind": "kubernetes", "name": "order-service", "namespace": "techbra-test", "label": "kubernetes/techbra-test/order-service"},
        {"kind": "compose", "name": "backend", "project": "conectsuite", "docker_host": "unix:///d.sock", "label": "compose/backend"},
        {"kind": "systemd", "name": "etl", "label": "systemd/etl"}]
    assert REFS("order-service", namespace="mine", defaults=defaults)[0]["namespace"] == "mine"  # the role's wins
    assert REFS({"name": "x", "namespace": "own"}, namespace="mine", defaults=defaults)[0]["namespace"] == "own"


def test_workload_skipped_is_one_warning_naming_the_variable():
    assert SKIPPED("restart the workers", "queue_worker_restart", "queue_backlog_workers", "mlbling-lab") == [{
        "check": "queue_worker_restart", "status": "warning", "value": None, "state": None, "threshold": None, "unit": None,
        "message": "skipped: restart the workers - no workload configured (set queue_backlog_workers in the inventory)",
        "target": "mlbling-lab"}]
