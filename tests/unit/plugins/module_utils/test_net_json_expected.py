"""http_health's json_expected: one value or a list of values that mean healthy."""

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.net import probes


def endpoint(expected):
    return {"name": "connectors", "json_query": "status", "json_expected": expected, "expected_status": [200]}


def probe(value):
    return {"error": None, "status_code": 200, "json_value": value, "json_is_document": True, "latency_ms": 1.0}


@pytest.mark.parametrize("expected, value, status, message", [
    ("UP", "UP", "ok", "connectors: status is 'UP'"),
    (["UP", "OK"], "OK", "ok", "connectors: status is 'OK'"),
    (["UP"], "DOWN", "critical", "connectors: status is 'DOWN', expected 'UP'"),
    (["UP", "OK"], "DOWN", "critical", "connectors: status is 'DOWN', expected one of UP, OK"),
    (None, None, "critical", "connectors: status is None, expected a truthy value"),
])
def test_json_expected_one_or_several(expected, value, status, message):
    [found] = [f for f in probes.http_findings(probe(value), endpoint(expected)) if f["check"] == "http_json"]
    assert (found["status"], found["message"]) == (status, message)
