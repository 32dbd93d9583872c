"""The collection's rulebook under the real ansible-rulebook: Alertmanager-shaped posts -> opsbook respond.

One ansible-rulebook process (Java, drools) for the module, on a free port, with the lab inventory; its
reports go to a temporary OPSBOOK_REPORT_DIR. The scenarios are read-only or refuse destructive steps
(respond never confirms), so the lead's lab is only read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import closed_port, poll
from tests.integration.test_eda_source import am_alert, post, webhook_body

pytestmark = [pytest.mark.lab, pytest.mark.slow]
BIN = Path(sys.executable).parent
TOKEN = "rulebook-test-token"
QUIET = 6  # seconds a post that must run nothing is given to (wrongly) start a run


@pytest.fixture(scope="module")
def rulebook(lab, tmp_path_factory):
    from opsbook.catalog import lab_inventory

    work = tmp_path_factory.mktemp("eda")
    (work / "token").write_text(TOKEN + "\n")
    (work / "vars.yml").write_text(json.dumps({
        "opsbook_eda_hosts": {"127.0.0.1": "lab-local"},
        "OPSBOOK_EDA_DEDUP_WINDOW": 0,  # the source's dedup off: the rulebook's throttle is under test
        "opsbook_respond_remediate": ["postgres-connection-pool"],
    }))
    port = closed_port()
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", OPSBOOK_EDA_PORT=str(port),
               OPSBOOK_EDA_TOKEN_FILE=str(work / "token"), OPSBOOK_REPORT_DIR=str(work / "reports"), NO_COLOR="1")
    log = open(work / "rulebook.log", "w+")
    proc = subprocess.Popen(
        [str(BIN / "ansible-rulebook"), "-r", "opsbook.runbooks.alertmanager", "-i", str(lab_inventory()),
         "--env-vars", "OPSBOOK_EDA_PORT,OPSBOOK_EDA_TOKEN_FILE", "--vars", str(work / "vars.yml"), "-v"],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)

    def text():
        return (work / "rulebook.log").read_text()

    try:
        poll(lambda: "alertmanager: listening on" in text() or proc.poll() is not None, timeout=90)  # -v: INFO
        assert proc.poll() is None, text()
        time.sleep(1)  # the rules engine starts after the sources
        yield {"port": port, "reports": work / "reports", "log": text}
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def reports(rb) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(rb["reports"].glob("*.json"))]


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
    assert "diagnose only (a read-only scenario)" in rulebook["log"]()


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
