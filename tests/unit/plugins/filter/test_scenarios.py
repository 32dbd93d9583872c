import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.opsbook.runbooks.plugins.filter.scenarios import FilterModule

F = FilterModule().filters()
ACTION = {"action": "rollout_restart", "target": "ns/api", "changed": True, "dry_run": False, "detail": "rollout restart"}


@pytest.mark.parametrize("result, outcome, status", [
    ({"changed": True, "revision": 3, "previous_revision": 2, "actions": [ACTION]}, "done", "ok"),
    ({"changed": True, "actions": [dict(ACTION, dry_run=True)]}, "dry_run", "ok"),
    ({"failed": False, "msg": "deployment ns/api not found"}, "failed", "critical"),
    ({"failed": True, "msg": "rollout of ns/api not complete"}, "failed", "critical"),
    ({"skipped": True, "changed": False}, "skipped", "warning"),
])
def test_rows_and_findings(result, outcome, status):
    row = F["workload_step_row"](result, "api")
    assert row["outcome"] == outcome
    (finding,) = F["workload_step_findings"]([row])
    assert (finding["check"], finding["status"], finding["target"]) == ("workload_restart", status, "api")


def test_done_message_names_the_revisions():
    row = F["workload_step_row"]({"revision": 3, "previous_revision": 2, "actions": [ACTION]}, "api")
    assert F["workload_step_findings"]([row], "deploy")[0]["message"] == "api: restart done and ready, revision 2 -> 3"


def test_bad_input_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="workload_step_row: expected a registered result, got str"):
        F["workload_step_row"]("oops", "api")
    with pytest.raises(AnsibleFilterError, match="workload_step_findings: bad row"):
        F["workload_step_findings"]([{"workload": "api"}])


@pytest.mark.parametrize("healthy, result, after, status, value", [
    (True, None, None, "ok", "healthy"),
    (False, None, None, "warning", "not_remediated"),
    (False, {"skipped": True}, None, "warning", "not_remediated"),
    (False, {"changed": True, "actions": [dict(ACTION, dry_run=True)]}, None, "warning", "dry_run"),
    (False, {"failed": False, "msg": "rollout of ns/api not complete"}, None, "critical", "failed"),
    (False, {"changed": True, "actions": [ACTION]}, "ok", "ok", "recovered"),
    (False, {"changed": True, "actions": [ACTION]}, None, "ok", "recovered"),
    (False, {"changed": True, "actions": [ACTION]}, "critical", "critical", "still_unhealthy"),
])
def test_remediation_verdict(healthy, result, after, status, value):
    finding = F["remediation_verdict"](healthy, "ns/api", result, after, "restart", "app_remediation")
    assert (finding["check"], finding["status"], finding["value"], finding["target"]) == ("app_remediation", status, value, "ns/api")
