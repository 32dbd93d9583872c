"""PromQL checks: validation of what the user wrote, naming series, the verdict of special values."""

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.prometheus import common as prometheus
from ansible_collections.opsbook.runbooks.plugins.module_utils.prometheus import checks as prometheus_checks
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput


@pytest.mark.parametrize(
    "queries, message",
    [
        ([], "queries must list at least one check"),
        ([{"name": "p99"}], "queries[0] needs a name and an query"),
        ([{"name": "p99", "query": "up", "sql": "x"}], "queries[0] has unknown key(s) sql"),
        ([{"name": "p99", "query": "up", "empty": "fine"}], "queries[p99].empty must be one of ok, unknown, warning, critical"),
        ([{"name": "p99", "query": "up", "target_labels": [1]}], "queries[p99].target_labels must be a label name"),
        ([{"name": "p99", "query": "up", "warn": 5, "crit": 2}], "queries[p99]: warn threshold 5.0 is above crit"),
    ],
)
def test_validate_names_the_bad_entry(queries, message):
    with pytest.raises(InvalidInput) as err:
        prometheus_checks.validate(queries)
    assert message in str(err.value)


def test_series_are_named_by_their_labels_without_the_metric_name():
    labels = {"__name__": "up", "route": "/orders", "method": "GET"}
    assert prometheus_checks.series_name(labels) == "method=GET, route=/orders"
    assert prometheus_checks.series_name(labels, ["route"]) == "route=/orders"
    assert prometheus_checks.series_name({}) == ""


@pytest.mark.parametrize(
    "raw, direction, status",
    [("+Inf", "above", "critical"), ("+Inf", "below", "ok"), ("-Inf", "below", "critical")],
)
def test_infinite_quantile_is_judged_by_direction(raw, direction, status):
    warn, crit = (2, 5) if direction == "above" else (5, 2)
    check = prometheus_checks.validate([{"name": "p99", "query": "q", "warn": warn, "crit": crit, "direction": direction}])[0]
    series = {"labels": {"route": "/slow"}, "value": float(raw), "raw": raw}
    finding = prometheus_checks.series_finding(check, series, "prom")
    assert (finding["status"], finding["target"], finding["value"]) == (status, "route=/slow", None)
    assert prometheus_checks.jsonable(series) == {"labels": {"route": "/slow"}, "value": None, "raw": raw}


def test_strict_threshold_follows_the_runbook_wording():
    check = prometheus_checks.validate([{"name": "err", "query": "q", "warn": 5, "crit": 10, "strict": True, "unit": "%"}])[0]
    at_limit = prometheus_checks.series_finding(check, {"labels": {}, "value": 5.0, "raw": "5"}, "prom")
    above = prometheus_checks.series_finding(check, {"labels": {}, "value": 5.01, "raw": "5.01"}, "prom")
    assert (at_limit["status"], above["status"]) == ("ok", "warning")
    assert at_limit["target"] == "prom"


@pytest.mark.parametrize(
    "params, message",
    [
        ({"url": "prometheus:9090"}, "url: expected an http:// or https:// URL"),
        ({"url": "http://p:9090", "timeout": 0}, "timeout must be a positive number"),
        ({"url": "http://[::1:9090"}, "url: not a valid URL (Invalid IPv6 URL): 'http://[::1:9090'"),
        ({"url": "http://p:9090", "bearer_token": "t0k", "username": "u"}, "mutually exclusive"),
    ],
)
def test_bad_connection_options_are_refused(params, message):
    with pytest.raises(InvalidInput) as err:
        prometheus.Prometheus(dict({"timeout": 5}, **params))
    assert message in str(err.value)


def test_credentials_in_the_url_never_reach_the_target_name():
    params = {"url": "https://admin:s3cret@prom.example.com:9090/prometheus/", "timeout": 5}
    assert prometheus.describe_target(params) == "https://prom.example.com:9090/prometheus"
    client = prometheus.Prometheus(params)
    assert client.target == "https://prom.example.com:9090/prometheus"  # also what every request is built on
    assert client.headers["Authorization"].startswith("Basic ") and "s3cret" not in client.target
