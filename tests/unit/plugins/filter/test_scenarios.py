import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.opsbook.runbooks.plugins.filter.scenarios import FilterModule

F = FilterModule().filters()
ACTION = {"action": "restart", "target": "ns/api", "changed": True, "dry_run": False, "detail": "rollout restart"}


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
    assert (finding["check"], finding["status"], finding["state"], finding["target"]) == ("app_remediation", status, value, "ns/api")
    assert finding["value"] is None  # words are states, values are numbers


def _status(ready, running=True, status=None):
    return {"ready": ready, "status": status or ("ok" if ready else "critical"), "containers": [{"running": running}]}


@pytest.mark.parametrize("app, db, port, health, branch", [
    (_status(True), _status(True), {"status": "ok"}, {"status": "ok"}, "none"),
    (_status(True), _status(False, running=False), None, {"status": "critical"}, "start_database"),
    (_status(True), {"skipped": True}, {"status": "critical"}, {"status": "critical"}, "start_database"),
    (_status(False, running=False), _status(True), {"status": "ok"}, {"status": "critical"}, "restart"),
    (_status(False, running=True), _status(True), None, {"status": "critical"}, "stop_start"),
    (_status(True), None, None, {"status": "critical"}, "stop_start"),
    ({"reachable": False, "status": "critical", "findings": []}, None, None, None, "restart"),
    (_status(True), dict(_status(True), desired=0, pods=[]), None, {"status": "critical"}, "start_database"),
    (dict(_status(True), desired=0, pods=[]), _status(True), None, {"status": "critical"}, "start"),
])
def test_api_down_branch(app, db, port, health, branch):
    assert F["api_down_branch"](app, db, port, health) == branch


def test_mttr_against_the_target():
    ok = F["mttr_finding"](0, "", 7, "backend", "api_down_mttr", recovered=180)
    assert (ok["status"], ok["value"], ok["message"]) == ("ok", 3.0, "time to recovery (MTTR) of backend is 3 minutes (below the 7 minutes limit)")
    late = F["mttr_finding"](0, "2026-01-01T10:00:00Z", 7, "backend", recovered="2026-01-01T10:07:00+00:00")
    assert (late["status"], late["value"]) == ("critical", 7.0)
    with pytest.raises(AnsibleFilterError, match="mttr_finding: 'yesterday' is neither"):
        F["mttr_finding"](0, "yesterday", 7, "backend")


def test_log_collection_finding_carries_counts_and_last_lines():
    result = {"sources": [{"source": "container/p_backend_1", "lines_scanned": 12}], "counts": {"error": 2, "warn": 0},
              "last_matches": {"error": ["t1 ERROR a", "t2 ERROR b"], "warn": []}}
    finding = F["log_collection_finding"](result, "backend")
    assert finding["message"] == ("backend: 12 log lines collected before any change from container/p_backend_1; "
                                  "matches error=2; last: t1 ERROR a | t2 ERROR b")
    assert F["log_collection_finding"]({"skipped": True}, "backend")["status"] == "unknown"


UPDATE = {"changed": True, "revision": 2, "previous_revision": 1, "actions": [dict(ACTION, action="update")]}


@pytest.mark.parametrize("update, smoke, rollback, status, value", [
    (UPDATE, {"status": "ok"}, {"skipped": True}, "ok", "deployed"),
    (UPDATE, None, None, "ok", "deployed"),
    ({"changed": True, "actions": [dict(ACTION, dry_run=True)]}, {"skipped": True}, {"skipped": True}, "ok", "dry_run"),
    (UPDATE, {"status": "critical", "attempts": 2}, {"revision": 3, "actions": [ACTION]}, "critical", "rolled_back"),
    ({"msg": "rollout of ns/api not complete"}, {"skipped": True}, {"revision": 3, "actions": [ACTION]}, "critical", "rolled_back"),
    (UPDATE, {"status": "critical"}, {"skipped": True}, "critical", "failed"),
    (UPDATE, {"status": "critical"}, {"msg": "no previous revision"}, "critical", "failed"),
])
def test_deploy_verdict(update, smoke, rollback, status, value):
    finding = F["deploy_verdict"](update, "ns/api", "app:2", smoke, rollback)
    assert (finding["check"], finding["status"], finding["state"], finding["value"]) == ("deploy_result", status, value, None)


def test_remediation_verdict_over_a_sequence_of_steps():
    stop = {"changed": True, "actions": [dict(ACTION, action="stop", dry_run=True, detail="would stop p/backend")]}
    start = {"changed": False, "actions": [dict(ACTION, action="start", dry_run=True, detail="would start p/backend")]}
    finding = F["remediation_verdict"](False, "backend", [{"skipped": True}, stop, start], None, "stop and start")
    assert finding["message"] == "backend is unhealthy; check mode, would stop p/backend; would start p/backend"
    failed = F["remediation_verdict"](False, "backend", [{"msg": "db did not start"}, {"skipped": True}], None, "start db")
    assert (failed["status"], failed["message"]) == ("critical", "backend: start db failed: db did not start")


def test_api_down_findings_logs_verdict_and_mttr_once_recovered():
    logs = {"sources": [{"source": "container/shop_backend_1", "lines_scanned": 12}], "counts": {"error": 2},
            "last_matches": {"error": ["ERROR db gone"]}}
    fix = {"changed": True, "actions": [ACTION]}
    started = "2026-12-01T10:00:00Z"
    found = F["api_down_findings"]("start_database", "backend", logs, [{"changed": True, "actions": [ACTION]}, {"skipped": True}, fix],
                                   {"status": "ok"}, "postgres", started, "", 7)
    assert [(x["check"], x["status"], x["phase"]) for x in found] == [
        ("api_down_logs", "ok", "diagnose"), ("api_down_remediation", "ok", "verify"), ("api_down_mttr", "critical", "verify")]
    assert found[1]["message"] == "backend: start postgres then restart done, healthy again"
    assert found[2]["state"] == "measured"  # a late fix is still a fix
    # not recovered: no MTTR; remediation off: the verdict says what --remediate would do
    found = F["api_down_findings"]("restart", "backend", logs, [{"skipped": True}] * 3, {"skipped": True})
    assert [(x["check"], x["state"]) for x in found] == [("api_down_logs", None), ("api_down_remediation", "not_remediated")]
    assert "--remediate would restart it" in found[1]["message"]
