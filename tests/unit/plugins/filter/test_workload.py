import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.opsbook.runbooks.plugins.filter.workload import FilterModule

REFS = FilterModule().filters()["workload_refs"]
REF = FilterModule().filters()["workload_ref"]
SKIPPED = FilterModule().filters()["workload_skipped"]


@pytest.mark.parametrize("value, expected", [
    ("", []),
    ({}, []),
    (None, []),
    ("worker", [{"kind": "kubernetes", "name": "worker", "label": "deployment/worker"}]),
    ("statefulset/kafka", [{"kind": "kubernetes", "resource": "statefulset", "name": "kafka", "label": "statefulset/kafka"}]),
    ("systemd/etl-service", [{"kind": "systemd", "name": "etl-service", "label": "systemd/etl-service"}]),
    ("compose/backend", [{"kind": "compose", "name": "backend", "label": "compose/backend"}]),
    ([{"name": "order-service", "replicas": "3"}, {"name": "billing-service", "replicas": 2, "namespace": "other"}],
     [{"kind": "kubernetes", "name": "order-service", "replicas": 3, "label": "deployment/order-service"},
      {"kind": "kubernetes", "name": "billing-service", "replicas": 2, "namespace": "other",
       "label": "other/deployment/billing-service"}]),
])
def test_workload_refs(value, expected):
    assert REFS(value) == expected


def test_a_parsed_reference_passes_through_unchanged():
    once = REFS(["compose/backend", {"name": "w", "replicas": 2}])
    assert REFS(once) == once


@pytest.mark.parametrize("value, message", [
    ("pod/worker", "queue_backlog_workers: unknown prefix 'pod' in 'pod/worker'"),
    (["worker", {"name": "x", "replica": 3}], "queue_backlog_workers[1]: unknown key(s) replica"),
    ({"namespace": "x"}, "queue_backlog_workers: a workload needs a name"),
    (3, "queue_backlog_workers: expected a string"),
])
def test_bad_reference_names_the_option(value, message):
    with pytest.raises(AnsibleFilterError) as err:
        REFS(value, "queue_backlog_workers")
    assert str(err.value).startswith(message)


def test_workload_ref_is_one_reference():
    assert REF("compose/backend", "api_down_app") == {"kind": "compose", "name": "backend", "label": "compose/backend"}
    assert REF("", "api_down_app") == {}
    with pytest.raises(AnsibleFilterError, match=r"^deploy_workload: expected one workload reference, got a list"):
        REF(["a"], "deploy_workload")


def test_workload_skipped_is_one_warning_naming_the_variable():
    assert SKIPPED("restart the workers", "queue_worker_restart", "queue_backlog_workers", "mlbling-lab") == [{
        "check": "queue_worker_restart", "status": "warning", "value": None, "state": None, "threshold": None, "unit": None,
        "message": "skipped: restart the workers - no workload configured (set queue_backlog_workers in the inventory)",
        "target": "mlbling-lab"}]
