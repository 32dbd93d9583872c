"""The collection's rulebook under the real ansible-rulebook: Alertmanager-shaped posts -> opsbook respond.

One ansible-rulebook process (Java, drools) for the module, on a free port, with the lab inventory; its
reports go to a temporary OPSBOOK_REPORT_DIR. The scenarios are read-only or refuse destructive steps
(respond never confirms), so the lead's lab is only read.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from tests.helpers import closed_port, poll
from tests.integration.eda_lab import reports, rulebook_process
from tests.integration.test_eda_source import am_alert, post, webhook_body

pytestmark = [pytest.mark.lab, pytest.mark.slow]
TOKEN = "rulebook-test-token"
QUIET = 6  # seconds a post that must run nothing is given to (wrongly) start a run


@pytest.fixture(scope="module")
def rulebook(lab, tmp_path_factory):
    from opsbook.catalog import lab_inventory

    work = tmp_path_factory.mktemp("eda")
    (work / "token").write_text(TOKEN + "\n")
    variables = {
        "opsbook_eda_hosts": {"127.0.0.1": "lab-local"},
        "OPSBOOK_EDA_DEDUP_WINDOW": 0,  # the source's dedup off: the rulebook's throttle is under test
        "opsbook_respond_remediate": ["postgres-connection-pool"],
    }
    with rulebook_process(work, lab_inventory(), variables, closed_port(), work / "token") as rb:
        yield rb


def wait_reports(rb, count: int) -> list[dict]:
    return poll(lambda: len(reports(rb)) >= count and reports(rb), timeout=120)


def test_firing_alert_runs_its_scenario_diagnose_only_and_once_per_fingerprint(rulebook):
    before = len(reports(rulebook))
    body = webhook_body(am_alert("RedisMemoryHigh", "rb-redis-1"))
    assert post(rulebook["port"], body, token=TOKEN) == (202, {"events": 1})
    assert post(rulebook["port"], body, token=TOKEN) == (202, {"events": 1})  # the throttle's job now
    found = wait_reports(rulebook, before + 1)
    report = found[before]
    assert report["schema"] == "opsbook.report/v2" and report["scenario"] == "redis-health"
    assert report["remediate"] is False and report["hosts"] == ["lab-local"]
    assert report["outcome"] in ("healthy", "action_needed") and report["run"]["failed"] is False
    time.sleep(QUIET)
    assert len(reports(rulebook)) == before + 1, rulebook["log"]()[-3000:]
    # the playbook prints respond's output once respond ends: after the report, after its incident.yml
    poll(lambda: "diagnose only (a read-only scenario)" in rulebook["log"](), timeout=120)


def test_allow_listed_scenario_remediates(rulebook):
    before = len(reports(rulebook))
    body = webhook_body(am_alert("DatabaseConnectionPoolExhausted", "rb-pool-1", instance="127.0.0.1:15432"))
    assert post(rulebook["port"], body, token=TOKEN)[0] == 202
    report = wait_reports(rulebook, before + 1)[before]
    assert report["scenario"] == "postgres-connection-pool" and report["remediate"] is True
    poll(lambda: "with remediation (postgres-connection-pool is on the allow-list)" in rulebook["log"](), timeout=30)


def test_wrong_token_is_401_and_runs_nothing(rulebook):
    before = len(reports(rulebook))
    body = webhook_body(am_alert("RedisMemoryHigh", "rb-token"))
    assert post(rulebook["port"], body, token="wrong")[0] == 401
    assert post(rulebook["port"], body, token=None)[0] == 401
    time.sleep(QUIET)
    assert len(reports(rulebook)) == before
    assert "missing or wrong bearer token" in rulebook["log"]() and TOKEN not in rulebook["log"]()


def test_malformed_body_is_400_and_the_next_good_post_runs(rulebook):
    before = len(reports(rulebook))
    status, body = post(rulebook["port"], b'{"version": "4", "alerts": [', token=TOKEN)
    assert status == 400 and body["error"].startswith("the body is not JSON")
    assert post(rulebook["port"], {"version": "4", "alerts": [{"status": "firing"}]}, token=TOKEN)[0] == 400
    assert "400 from 127.0.0.1: the body is not JSON" in rulebook["log"]()
    assert post(rulebook["port"], webhook_body(am_alert("RedisDown", "rb-after-400")), token=TOKEN)[0] == 202
    assert wait_reports(rulebook, before + 1)[before]["scenario"] == "redis-health"


def test_unknown_alert_logs_no_scenario_and_runs_nothing(rulebook):
    before = len(reports(rulebook))
    assert post(rulebook["port"], webhook_body(am_alert("NoSuchAlert", "rb-unknown")), token=TOKEN)[0] == 202
    poll(lambda: "no scenario for alert NoSuchAlert" in rulebook["log"](), timeout=60)
    time.sleep(1)
    assert len(reports(rulebook)) == before


def test_resolved_alert_dates_its_incident_and_runs_no_scenario(rulebook):
    from ansible_collections.opsbook.runbooks.plugins.module_utils.incident import record as rec

    fingerprint = f"rb-cleared-{uuid.uuid4().hex[:8]}"
    path = Path(rec.record_path(rec.default_state_dir(), fingerprint))
    before = len(reports(rulebook))
    assert post(rulebook["port"], webhook_body(am_alert("RedisMemoryHigh", fingerprint)), token=TOKEN)[0] == 202
    wait_reports(rulebook, before + 1)
    declared = poll(lambda: path.exists() and json.loads(path.read_text()), timeout=120)  # respond's incident.yml
    assert declared["alert_cleared_at"] is None
    resolved = dict(am_alert("RedisMemoryHigh", fingerprint, status="resolved"), endsAt="2026-12-01T10:05:00.000Z")
    assert post(rulebook["port"], webhook_body(resolved), token=TOKEN)[0] == 202
    cleared = poll(lambda: json.loads(path.read_text())["alert_cleared_at"], timeout=120)
    assert cleared == "2026-12-01T10:05:00Z"
    record = json.loads(path.read_text())
    assert (record["state"], record["events"]) == (declared["state"], declared["events"])  # dated, no state change
    poll(lambda: "RedisMemoryHigh cleared at 2026-12-01T10:05:00Z" in rulebook["log"](), timeout=30)
    time.sleep(1)
    assert len(reports(rulebook)) == before + 1  # a resolved alert runs no scenario
