"""alertmanager_silence against the lab's real Alertmanager, compared with amtool."""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest

from tests.helpers import closed_port, run_module

pytestmark = pytest.mark.lab


@pytest.fixture
def am(alertmanager_lab):
    return alertmanager_lab


@pytest.fixture
def run_id():
    """A label value of its own; every silence on it is expired afterwards (with amtool)."""
    value = f"t{uuid.uuid4().hex[:10]}"
    yield value


def amtool_silences(am, run_id):
    out = subprocess.run([am["tools"]["amtool"], f"--alertmanager.url={am['url']}", "silence", "query",
                          f"run={run_id}", "-o", "json"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def silence(am, run_id, check_mode=False, **args):
    params = dict(url=am["url"], timeout=5, matchers=["alertname=LabSilenceTest", f"run={run_id}"],
                  comment=f"opsbook test {run_id}", duration="30m")
    params.update(args)
    return run_module("alertmanager_silence", params, check_mode=check_mode)


def test_create_is_seen_by_amtool_and_a_second_run_changes_nothing(am, run_id):
    first = silence(am, run_id)
    assert first["changed"] is True and first["silence_state"] == "created", first
    assert first["status"] == "ok" and first["findings"][0]["check"] == "alertmanager_reachable"
    [seen] = amtool_silences(am, run_id)
    assert seen["id"] == first["silence_id"] and seen["comment"] == f"opsbook test {run_id}"
    assert sorted((m["name"], m["value"], m["isRegex"]) for m in seen["matchers"]) == [
        ("alertname", "LabSilenceTest", False), ("run", run_id, False)]
    second = silence(am, run_id)
    assert (second["changed"], second["silence_state"], second["silence_id"]) == (False, "unchanged",
                                                                                  first["silence_id"])
    assert len(amtool_silences(am, run_id)) == 1
    # a later end extends the same silence (one active silence still)
    third = silence(am, run_id, duration="2h")
    assert third["changed"] is True and third["silence_state"] == "extended"
    assert len(amtool_silences(am, run_id)) == 1
    listed = silence(am, run_id, state="query")
    assert [s["id"] for s in listed["silences"]] == [third["silence_id"]]
    # expire: gone for amtool (which lists only active silences by default)
    gone = silence(am, run_id, state="absent")
    assert gone["changed"] is True and gone["expired"] == [third["silence_id"]]
    assert amtool_silences(am, run_id) == []
    again = silence(am, run_id, state="absent")
    assert (again["changed"], again["silence_state"]) == (False, "absent")


def test_check_mode_creates_and_expires_nothing(am, run_id):
    planned = silence(am, run_id, check_mode=True)
    assert planned["changed"] is True and planned["actions"][0]["dry_run"] is True
    assert amtool_silences(am, run_id) == []
    made = silence(am, run_id, matchers=[{"name": "alertname", "value": "LabSilence.*", "isRegex": True},
                                         f'run="{run_id}"'])
    assert made["changed"] is True
    planned_expire = silence(am, run_id, check_mode=True, state="absent",
                             matchers=["alertname=~LabSilence.*", f"run={run_id}"])
    assert planned_expire["changed"] is True and planned_expire["expired"] == [made["silence_id"]]
    assert [s["id"] for s in amtool_silences(am, run_id)] == [made["silence_id"]]
    silence(am, run_id, state="absent", matchers=["alertname=~LabSilence.*", f"run={run_id}"])
    assert amtool_silences(am, run_id) == []


@pytest.mark.parametrize("args, message", [
    ({"matchers": ["alertname"]}, "matchers: expected name=value, name!=value, name=~regex or name!~regex, got 'alertname'"),
    ({"matchers": [{"name": "1x", "value": "a"}]}, "matchers: expected {name, value, isRegex, isEqual}"),
    ({"matchers": ["alertname!=x"]}, "matchers: at least one matcher must select something"),
    ({"duration": "soon"}, "duration: expected a duration such as 2h, 30m or 1h30m, got 'soon'"),
    ({"ends_at": "tomorrow"}, "ends_at: expected an RFC 3339 time"),
    ({"comment": ""}, "comment: required with state=present"),
])
def test_bad_input_is_a_clear_error_naming_the_option(am, run_id, args, message):
    result = silence(am, run_id, **args)
    assert result.get("failed") is True
    assert result["msg"].startswith(message), result["msg"]
    assert amtool_silences(am, run_id) == []


def test_unreachable_alertmanager_is_a_critical_finding_and_the_token_stays_secret(run_id):
    token = f"s3cret-{uuid.uuid4().hex}"
    result = run_module("alertmanager_silence", {
        "url": f"http://user:pw-{token}@127.0.0.1:{closed_port()}", "timeout": 2, "token": token,
        "matchers": [f"run={run_id}"], "comment": "x"})
    assert result.get("failed") is not True, result
    assert (result["status"], result["reachable"]) == ("critical", False)
    [finding] = result["findings"]
    assert finding["check"] == "alertmanager_reachable" and finding["status"] == "critical"
    assert "unreachable" in finding["message"]
    assert token not in json.dumps(result)
