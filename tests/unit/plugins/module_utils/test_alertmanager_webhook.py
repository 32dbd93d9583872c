"""Alertmanager webhook payloads -> events: parsing, host mapping, dedup, token."""

from __future__ import annotations

import json

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.alerts import alertmanager_webhook as wh
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput


def payload(*alerts, version="4"):
    return {"version": version, "groupKey": "{}:{}", "status": "firing", "receiver": "opsbook",
            "externalURL": "http://am:9093", "alerts": list(alerts)}


def alert(name="RedisMemoryHigh", status="firing", fp="abc123", **labels):
    return {"status": status, "labels": dict(alertname=name, **labels), "annotations": {"summary": "s"},
            "startsAt": "2026-12-01T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prom/graph", "fingerprint": fp}


def test_one_event_per_alert_with_its_fields():
    body = json.dumps(payload(alert(fp="a", instance="db1:9121"), alert("APIDown", fp="b"))).encode()
    events = wh.alert_events(wh.parse_payload(body), {"db1": "db-1"})
    assert [e["alert"]["labels"]["alertname"] for e in events] == ["RedisMemoryHigh", "APIDown"]
    first = events[0]
    assert first["receiver"] == "opsbook" and first["externalURL"] == "http://am:9093"
    assert first["alert"]["startsAt"] == "2026-12-01T10:00:00Z" and first["alert"]["fingerprint"] == "a"
    assert first["alert"]["annotations"] == {"summary": "s"}
    assert first["meta"] == {"hosts": ["db-1"]}
    assert events[1]["meta"] == {"hosts": ["all"]}


@pytest.mark.parametrize("labels, hosts, expected", [
    ({"instance": "10.0.0.5:9100"}, {"10.0.0.5:9100": "exact"}, "exact"),
    ({"instance": "10.0.0.5:9100"}, {"10.0.0.5": "db-1"}, "db-1"),
    ({"instance": "[::1]:9100"}, {"::1": "v6"}, "v6"),
    ({"instance": "unknown:9100"}, {"10.0.0.5": "db-1"}, "fallback"),
    ({}, {"10.0.0.5": "db-1"}, "fallback"),
    ({"instance": ""}, {}, "fallback"),
])
def test_host_mapping_never_passes_the_raw_label(labels, hosts, expected):
    assert wh.map_host(labels, hosts, "instance", "fallback") == expected


def test_host_label_is_configurable():
    assert wh.map_host({"node": "n1", "instance": "x"}, {"n1": "node-1"}, host_label="node") == "node-1"


@pytest.mark.parametrize("body, reason", [
    (b"{not json", "not JSON"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[]", "expected a JSON object"),
    (json.dumps(payload(alert(), version="3")).encode(), "unsupported payload version '3'"),
    (json.dumps({"version": "4"}).encode(), "no 'alerts' list"),
    (json.dumps(payload("x")).encode(), "alerts[0] is not an object"),
    (json.dumps(payload(alert(status="pending"))).encode(), "alerts[0].status is 'pending'"),
    (json.dumps(payload({"status": "firing", "labels": {}})).encode(), "alerts[0] has no labels.alertname"),
])
def test_bad_payloads_are_refused_with_the_reason(body, reason):
    with pytest.raises(InvalidInput, match=reason.replace("[", r"\[").replace("]", r"\]")):
        wh.parse_payload(body)


def test_missing_fingerprint_is_a_stable_digest_of_the_labels():
    one = {"status": "firing", "labels": {"alertname": "X", "a": "1"}}
    two = {"status": "firing", "labels": {"a": "1", "alertname": "X"}}
    assert wh.fingerprint(one) == wh.fingerprint(two) != wh.fingerprint({"labels": {"alertname": "Y"}})


def test_dedup_window_per_fingerprint_and_status():
    now = [0.0]
    dedup = wh.Deduper(60, clock=lambda: now[0])
    assert dedup.fresh("a", "firing")
    assert not dedup.fresh("a", "firing")
    assert dedup.fresh("a", "resolved")
    assert dedup.fresh("b", "firing")
    now[0] = 61.0
    assert dedup.fresh("a", "firing")
    assert wh.Deduper(0).fresh("a", "firing") and wh.Deduper(0).fresh("a", "firing")


@pytest.mark.parametrize("header, ok", [
    ("Bearer s3cret", True), ("bearer s3cret", True), ("Bearer wrong", False), ("Basic s3cret", False),
    ("", False), (None, False), ("Bearer", False),
])
def test_token(header, ok):
    assert wh.token_matches(header, "s3cret") is ok
    assert wh.token_matches(header, None) is True  # no token configured: open


def test_args_defaults_and_token_file(tmp_path):
    conf = wh.check_args({})
    assert (conf["host"], conf["port"], conf["path"], conf["default_host"], conf["host_label"]) == \
        ("127.0.0.1", 15050, "/alerts", "all", "instance")
    secret = tmp_path / "token"
    secret.write_text("abc\n")
    assert wh.check_args({"token_file": str(secret), "port": "15051"})["token"] == "abc"
    assert wh.check_args({"port": "15051"})["port"] == 15051


@pytest.mark.parametrize("args, reason", [
    ({"port": "x"}, "port and dedup_window must be numbers"),
    ({"port": 0}, "port must be 1-65535"),
    ({"path": "alerts"}, "path must start with /"),
    ({"hosts": ["a"]}, "hosts must be a mapping"),
    ({"token": "a", "token_file": "/x"}, "not both"),
    ({"token_file": "/nonexistent/token"}, "cannot read token_file"),
])
def test_bad_args(args, reason):
    with pytest.raises(InvalidInput, match=reason):
        wh.check_args(args)
