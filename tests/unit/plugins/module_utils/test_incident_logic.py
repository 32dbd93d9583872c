"""incident: severity P1-P4, escalation, record transitions with MTTD/MTTR, templates (tables)."""

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.common import times
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.incident import policy, record as rec, render

TEMPLATES = ["playbooks/templates/incident"]


def f(check, status, phase="diagnose", state=None):
    return {"check": check, "status": status, "phase": phase, "state": state, "message": "%s is %s" % (check, status)}


@pytest.mark.parametrize("findings, alert, expected, source", [
    ([f("http_status", "critical")], None, "P1", "findings"),            # customer-facing down
    ([f("pg_backup_verify", "ok"), f("backup_result", "critical")], None, "P1", "findings"),  # data loss
    ([f("redis_reachable", "critical")], None, "P2", "findings"),        # critical component
    ([f("redis_memory", "warning")], None, "P3", "findings"),
    ([f("redis_memory", "ok")], None, "P4", "default"),
    ([], None, "P4", "default"),
    # only the diagnosis counts, and only verdicts
    ([f("redis_memory", "ok"), f("http_status", "critical", phase="verify")], None, "P4", "default"),
    ([f("api_down_mttr", "critical", phase="verify", state="measured")], None, "P4", "default"),
    ([f("x_check", "unknown", state="not_configured")], None, "P4", "default"),
    # the alert: severity maps, the more urgent speaks; a priority label wins outright
    ([f("redis_memory", "warning")], {"labels": {"severity": "critical"}}, "P2", "alert"),
    ([f("http_status", "critical")], {"labels": {"severity": "warning"}}, "P1", "findings"),
    ([f("http_status", "critical")], {"labels": {"priority": "p3"}}, "P3", "alert"),
    ([], {"labels": {"severity": "unheard-of"}}, "P4", "default"),
])
def test_severity(findings, alert, expected, source):
    got = policy.classify(findings, alert, "api-down")
    assert (got["priority"], got["source"]) == (expected, source)


def test_severity_matrix_override_by_scenario_and_check():
    matrix = [{"priority": "P1", "status": ["critical"], "scenarios": ["redis-*"]},
              {"priority": "P4", "status": ["warning", "critical"]}]
    assert policy.classify([f("redis_reachable", "critical")], None, "redis-health", matrix)["priority"] == "P1"
    assert policy.classify([f("redis_reachable", "critical")], None, "api-down", matrix)["priority"] == "P4"


@pytest.mark.parametrize("matrix, message", [
    ([{"status": "critical"}], r"severity_matrix\[0\]: expected"),
    ([{"priority": "P9"}], r"severity_matrix\[0\].priority: 'P9' is not one of P1"),
    ([{"priority": "P1", "status": "bad"}], r"severity_matrix\[0\].status: 'bad'"),
    ([{"priority": "P1", "check": "x"}], r"unknown key\(s\) check"),
])
def test_severity_matrix_bad_input(matrix, message):
    with pytest.raises(InvalidInput, match=message):
        policy.classify([], None, "x", matrix)


ETL = [{"level": "L1", "after": "0m", "contacts": ["dev"]}, {"level": "L2", "after": "30m", "contacts": ["lead", "devops"]},
       {"level": "L3", "after": "60m", "contacts": ["manager", "dev"]}]
CONECTCRM = [{"level": "L1", "after": 0, "contacts": ["oncall"]},
             {"level": "L2", "after": "15m", "contacts": ["sre-lead"], "priorities": ["P1", "P2"]},
             {"level": "L3", "after": "30m", "contacts": ["em", "cto"], "priorities": ["P1"]}]


@pytest.mark.parametrize("levels, priority, minutes, level, contacts, nxt, next_in", [
    (ETL, "P3", 0, "L1", ["dev"], "L2", 30.0),
    (ETL, "P3", 29.9, "L1", ["dev"], "L2", 0.1),
    (ETL, "P3", 30, "L2", ["dev", "lead", "devops"], "L3", 30.0),
    (ETL, "P1", 61, "L3", ["dev", "lead", "devops", "manager"], None, None),
    (CONECTCRM, "P3", 45, "L1", ["oncall"], None, None),        # warnings stay with the on-call
    (CONECTCRM, "P2", 20, "L2", ["oncall", "sre-lead"], None, None),
    (CONECTCRM, "P1", 20, "L2", ["oncall", "sre-lead"], "L3", 10.0),
    (CONECTCRM, "P1", 30, "L3", ["oncall", "sre-lead", "em", "cto"], None, None),
    ([], "P1", 99, None, [], None, None),
])
def test_escalation(levels, priority, minutes, level, contacts, nxt, next_in):
    got = policy.escalate(levels, priority, minutes * 60)
    assert (got["level"], got["contacts"], got["next_level"], got["next_in_minutes"]) == (level, contacts, nxt, next_in)


@pytest.mark.parametrize("after, message", [("soon", "escalation\\[0\\].after: 'soon' is not a duration"),
                                            ("-5m", "is not a duration")])
def test_escalation_bad_after(after, message):
    with pytest.raises(InvalidInput, match=message):
        policy.escalate([{"level": "L1", "after": after}], "P1", 0)


@pytest.mark.parametrize("text, seconds", [("0m", 0), ("15m", 900), ("2h", 7200), ("90s", 90), ("1d", 86400), (5, 300), ("30", 1800)])
def test_durations(text, seconds):
    assert times.duration_seconds(text) == seconds


@pytest.mark.parametrize("text, epoch", [("2026-01-02T03:04:05Z", 1767323045.0), ("2026-01-02T03:04:05.123456789Z", 1767323045.123456),
                                         ("2026-01-02T03:04:05+00:00", 1767323045.0), ("1767323045", 1767323045.0)])
def test_alertmanager_times(text, epoch):
    assert times.epoch(text) == pytest.approx(epoch)


def run(started, outcome, duration=60.0):
    return rec.run_summary({"scenario": "api-down", "started": started, "duration": duration, "outcome": outcome,
                            "status": "ok", "hosts": ["app"]})


P2 = {"priority": "P2", "reason": "critical x"}
ALERT = {"labels": {"alertname": "APIDown"}, "startsAt": "2026-01-02T10:28:00Z", "fingerprint": "f/1"}


def test_declare_update_resolve_with_mttd_and_mttr():
    record = rec.new_record(rec.incident_key(ALERT, "api-down", "app"), ALERT, run("2026-01-02T10:30:00Z", "action_needed"), "app", "t")
    assert record["id"] == "f_1" and record["mttd_minutes"] == 2.0
    first = run("2026-01-02T10:30:00Z", "action_needed")
    assert [e["state"] for e in rec.apply_run(record, first, [], P2, None, "2026-01-02T10:31:00Z", True)] == ["declared"]
    assert rec.apply_run(record, first, [], P2, None, "2026-01-02T10:32:00Z", True) == []  # same run: idempotent
    second = run("2026-01-02T10:35:00Z", "unresolved")
    assert [e["state"] for e in rec.apply_run(record, second, [], {"priority": "P3", "reason": "w"}, None, "2026-01-02T10:36:00Z", True)] == ["updated"]
    assert record["priority"] == "P2"  # never drops while open
    fixed = run("2026-01-02T10:40:00Z", "resolved", duration=300)
    assert [e["state"] for e in rec.apply_run(record, fixed, [], P2, None, "2026-01-02T10:45:01Z", True)] == ["resolved"]
    assert (record["state"], record["resolved_at"], record["mttr_minutes"]) == ("resolved", "2026-01-02T10:45:00Z", 17.0)
    assert [e["seq"] for e in record["events"]] == [1, 2, 3]
    assert rec.apply_run(record, run("2026-01-02T11:00:00Z", "healthy"), [], P2, None, "x", True) == []
    assert not rec.reopens(record, run("2026-01-02T11:00:00Z", "healthy"))
    assert rec.reopens(record, run("2026-01-02T11:00:00Z", "action_needed"))
    assert not rec.reopens(record, fixed)


@pytest.mark.parametrize("outcome, alert, states", [
    ("healthy", None, []),                      # nothing wrong and no alert: no incident
    ("healthy", ALERT, ["declared", "resolved"]),
    ("resolved", None, ["declared", "resolved"]),
    ("action_needed", None, ["declared"]),
    ("not_checked", None, ["declared"]),
])
def test_first_run(outcome, alert, states):
    first = run("2026-01-02T10:30:00Z", outcome)
    record = rec.new_record("k", alert, first, "app", "t")
    assert [e["state"] for e in rec.apply_run(record, first, [], P2, None, "2026-01-02T10:31:00Z", alert is not None)] == states
    if "resolved" in states:
        assert record["mttr_minutes"] == (3.0 if alert else 1.0)  # from startsAt, else from the run's start
    assert record["mttd_minutes"] == (2.0 if alert else None)


@pytest.mark.parametrize("alert, scenario, target, key", [
    ({"fingerprint": "4a5b6c"}, "api-down", "app", "4a5b6c"),
    (None, "api-down", "app", "api-down-app"),
    (None, "api-down", "10.0.0.1:3001/x", "api-down-10.0.0.1_3001_x"),
    ({"fingerprint": "../../etc/passwd"}, "x", "y", "etc_passwd"),
])
def test_keys(alert, scenario, target, key):
    assert rec.incident_key(alert, scenario, target) == key


def test_default_state_dir():
    assert rec.default_state_dir({"OPSBOOK_STATE_DIR": "/s"}) == "/s/incidents"
    assert rec.default_state_dir({"XDG_STATE_HOME": "/x"}) == "/x/opsbook/incidents"


def test_templates_render_and_fail_clearly(tmp_path):
    sources = render.load_templates(TEMPLATES)
    assert set(sources) == {"declaration", "update", "resolution", "postmortem"}
    assert "INCIDENT DECLARED" in sources["declaration"] and "Post-Mortem" in sources["postmortem"]
    (tmp_path / "declaration.txt.j2").write_text("custom {{ priority }}")
    assert render.load_templates([str(tmp_path)] + TEMPLATES)["declaration"] == "custom {{ priority }}"
    assert render.load_templates(TEMPLATES, {"update": "u"})["update"] == "u"
    with pytest.raises(InvalidInput, match="templates: unknown template"):
        render.load_templates(TEMPLATES, {"declare": "x"})
    with pytest.raises(InvalidInput, match="template_path: no declaration.txt.j2 in /nowhere"):
        render.load_templates(["/nowhere"])
    with pytest.raises(InvalidInput, match="templates.update: 'nope' is undefined"):
        render.render("{{ nope }}", {}, "update")
    with pytest.raises(InvalidInput, match="templates.update"):  # sandboxed: no attribute escapes
        render.render("{{ ''.__class__.__mro__ }}", {}, "update")


@pytest.mark.parametrize("minutes, text", [(None, "-"), (2, "2 min"), (7.5, "7.5 min"), (65, "1 h 5 min")])
def test_minutes_filter(minutes, text):
    assert render.render("{{ m | minutes }}", {"m": minutes}, "x") == text


def cleared(state_dir, alert, check_mode=False):
    from ansible_collections.opsbook.runbooks.plugins.module_utils.incident import service

    return service.run({"report": None, "alert": alert, "state_dir": str(state_dir)}, check_mode,
                       now=times.epoch("2026-01-02T11:00:00Z"))


def saved_record(state_dir, outcomes):
    record = rec.new_record(rec.incident_key(ALERT, None, None), ALERT, run("2026-01-02T10:30:00Z", outcomes[0]), "app", "t")
    for minute, outcome in enumerate(outcomes):
        rec.apply_run(record, run("2026-01-02T10:%02d:00Z" % (30 + minute), outcome), [], P2, None, "2026-01-02T10:50:00Z", True)
    state_dir.mkdir(exist_ok=True)
    rec.save(rec.record_path(str(state_dir), record["id"]), record)
    return rec.record_path(str(state_dir), record["id"])


RESOLVED_ALERT = dict(ALERT, status="resolved", endsAt="2026-01-02T10:58:30.123Z")


def test_a_cleared_alert_dates_its_resolved_incident_once(tmp_path):
    path = saved_record(tmp_path, ["action_needed", "resolved"])
    first = cleared(tmp_path, RESOLVED_ALERT)
    assert first["changed"] and first["status"] == "ok", first
    stored = rec.load(path)
    assert (stored["state"], stored["alert_cleared_at"]) == ("resolved", "2026-01-02T10:58:30Z")
    assert "resolved by a verified fix" in first["findings"][0]["message"] and first["messages"] == []
    assert cleared(tmp_path, RESOLVED_ALERT)["changed"] is False  # Alertmanager's re-send: nothing new


def test_a_cleared_alert_leaves_an_open_incident_open_and_says_so(tmp_path):
    path = saved_record(tmp_path, ["action_needed"])
    result = cleared(tmp_path, RESOLVED_ALERT, check_mode=True)
    assert result["changed"] and rec.load(path)["alert_cleared_at"] is None  # check mode writes nothing
    result = cleared(tmp_path, RESOLVED_ALERT)
    [finding] = result["findings"]
    assert (finding["status"], finding["state"], rec.load(path)["state"]) == ("warning", "declared", "declared")
    assert "no verified fix resolved the incident" in finding["message"]


def test_a_cleared_alert_without_an_incident_or_fingerprint(tmp_path):
    result = cleared(tmp_path, dict(RESOLVED_ALERT, fingerprint="never-seen"))
    assert (result["changed"], result["incident"], result["findings"][0]["state"]) == (False, None, "none")
    with pytest.raises(InvalidInput, match="alert.fingerprint"):
        cleared(tmp_path, {"status": "resolved", "labels": {}})
    with pytest.raises(InvalidInput, match="report: required, unless alert is a resolved"):
        cleared(tmp_path, dict(ALERT, status="firing"))
