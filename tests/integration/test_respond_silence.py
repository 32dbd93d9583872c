"""`opsbook respond --remediate` silences the alert it works on, then expires the silence (issue 15), against the
lab's real Alertmanager, compared with `amtool silence query`. The inventory names only that Alertmanager, so
the scenario itself fails fast (no PostgreSQL): the silence is expired after a failed run too."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest
import yaml

from tests.helpers import run_cli

pytestmark = pytest.mark.lab


def silences(am: dict, expired: bool) -> list[dict]:
    proc = subprocess.run([am["tools"]["amtool"], f"--alertmanager.url={am['url']}", "silence", "query", "-o", "json",
                           *(["--expired"] if expired else [])], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout or "[]")


def inventory(tmp_path, am: dict, **hostvars) -> str:
    host = dict(ansible_connection="local", ansible_python_interpreter=sys.executable,
                opsbook_alertmanager={"url": am["url"], "timeout": 5}, **hostvars)
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"am-only": host}}}))
    return str(tmp_path / "hosts.yml")


def respond(tmp_path, inv: str, instance: str, *extra: str) -> subprocess.CompletedProcess:
    return run_cli("respond", "DatabaseConnectionPoolExhausted", "-i", inv, "--label", f"instance={instance}",
                   "--no-incident", "--report-dir", str(tmp_path / "reports"), *extra)


def mine(found: list[dict], instance: str) -> list[dict]:
    return [s for s in found if {"name": "instance", "value": instance, "isRegex": False, "isEqual": True} in s["matchers"]]


def test_a_remediating_respond_silences_its_alert_and_expires_it(tmp_path, alertmanager_lab):
    am, instance = alertmanager_lab, f"db-{uuid.uuid4().hex[:6]}:5432"
    proc = respond(tmp_path, inventory(tmp_path, am), instance, "--remediate")
    assert "silence (present) on am-only" in proc.stderr and "created for alertname=" in proc.stderr, proc.stderr
    assert "silence (absent) on am-only" in proc.stderr and "1 silence(s) expired" in proc.stderr
    [silence] = mine(silences(am, expired=True), instance)
    assert sorted((m["name"], m["value"]) for m in silence["matchers"]) == [
        ("alertname", "DatabaseConnectionPoolExhausted"), ("instance", instance)]
    assert silence["createdBy"] == "opsbook" and "postgres-connection-pool (remediating)" in silence["comment"]
    assert silence["id"] in proc.stderr
    assert mine(silences(am, expired=False), instance) == []


@pytest.mark.parametrize("how", ["diagnose-only", "opsbook_respond_silence false"])
def test_no_silence_without_remediation_or_when_the_inventory_says_no(tmp_path, alertmanager_lab, how):
    am, instance = alertmanager_lab, f"db-{uuid.uuid4().hex[:6]}:5432"
    if how == "diagnose-only":
        proc = respond(tmp_path, inventory(tmp_path, am), instance)
    else:
        proc = respond(tmp_path, inventory(tmp_path, am, opsbook_respond_silence=False), instance, "--remediate")
    assert "silence (present)" not in proc.stderr
    assert mine(silences(am, expired=True), instance) == [] and mine(silences(am, expired=False), instance) == []
