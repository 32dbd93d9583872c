"""Pure parts of module_utils/alertmanager: matchers, durations, times, the common argspec."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.alertmanager import common, silences
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.prometheus.common import prometheus_common_argument_spec


@pytest.mark.parametrize("text, expected", [
    ("alertname=APIDown", ("alertname", "APIDown", False, True)),
    ("instance!=api-01", ("instance", "api-01", False, False)),
    ('alertname=~"APIDown|HighLatency.*"', ("alertname", "APIDown|HighLatency.*", True, True)),
    ("severity !~ info", ("severity", "info", True, False)),
    ("job=", ("job", "", False, True)),
    ({"name": "job", "value": "api", "isRegex": True}, ("job", "api", True, True)),
])
def test_parse_matcher(text, expected):
    m = silences.parse_matcher(text)
    assert (m["name"], m["value"], m["isRegex"], m["isEqual"]) == expected


@pytest.mark.parametrize("bad", ["alertname", "=x", "1a=b", 5, {"name": "a"}, {"name": "a", "value": "b", "x": 1},
                                 {"name": "a", "value": "b", "isRegex": "yes"}])
def test_parse_matcher_refuses(bad):
    with pytest.raises(InvalidInput, match="^matchers: "):
        silences.parse_matcher(bad)


def test_matchers_compare_in_one_canonical_order():
    assert silences.parse_matchers(["b=2", "a=1"]) == silences.parse_matchers([{"name": "a", "value": "1"}, "b=2"])


@pytest.mark.parametrize("text, seconds", [("2h", 7200), ("30m", 1800), ("1h30m", 5400), ("1d", 86400)])
def test_parse_duration(text, seconds):
    assert silences.parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["0s", "2 h", "h", "-1h", "1.5h"])
def test_parse_duration_refuses(text):
    with pytest.raises(InvalidInput, match="^duration: "):
        silences.parse_duration(text)


def test_parse_time_accepts_alertmanager_nanoseconds_and_needs_a_zone():
    assert silences.rfc3339(silences.parse_time("2026-12-01T23:00:00.123456789Z")) == "2026-12-01T23:00:00.123Z"
    assert silences.rfc3339(silences.parse_time("2026-12-01T20:00:00-03:00")) == "2026-12-01T23:00:00.000Z"
    with pytest.raises(InvalidInput, match="needs a time zone"):
        silences.parse_time("2026-12-01T23:00:00")


def test_live_keeps_active_and_pending_with_the_same_matchers_and_comment():
    ms = silences.parse_matchers(["a=1"])
    rows = [{"id": "1", "status": {"state": "active"}, "matchers": ms, "comment": "c", "endsAt": "2"},
            {"id": "2", "status": {"state": "expired"}, "matchers": ms, "comment": "c", "endsAt": "3"},
            {"id": "3", "status": {"state": "pending"}, "matchers": ms, "comment": "c", "endsAt": "1"},
            {"id": "4", "status": {"state": "active"}, "matchers": ms, "comment": "other", "endsAt": "1"},
            {"id": "5", "status": {"state": "active"}, "matchers": silences.parse_matchers(["a=1", "b=2"]),
             "comment": "c", "endsAt": "1"}]
    assert [s["id"] for s in silences.live(rows, ms, "c")] == ["3", "1"]
    assert [s["id"] for s in silences.live(rows)] == ["3", "4", "5", "1"]


def test_common_argspec_is_prometheus_s_with_a_token_alias():
    spec, prom = common.alertmanager_common_argument_spec(), prometheus_common_argument_spec()
    assert set(spec) == set(prom)
    assert spec["bearer_token"] == dict(prom["bearer_token"], aliases=["token"])
    assert spec["bearer_token"]["no_log"] is True and spec["password"]["no_log"] is True
