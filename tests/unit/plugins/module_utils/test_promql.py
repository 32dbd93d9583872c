"""The api-latency PromQL, built in Python: exactly the queries the seeds write, per route."""

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.prometheus import promql
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput


def test_the_seed_queries_by_route():
    queries = {q["name"]: q for q in promql.latency_queries("http_request_duration_seconds")}
    assert queries["api_latency_p99"]["query"] == (
        "histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{}[5m])))")
    assert (queries["api_latency_p95"]["warn"], queries["api_latency_p95"]["crit"]) == (0.5, 2)
    assert queries["api_request_rate"]["query"] == "sum by (route) (rate(http_request_duration_seconds_count{}[5m]))"
    assert queries["api_error_rate"]["query"] == (
        '100 * (sum by (route) (rate(http_request_duration_seconds_count{status=~"5.."}[5m])) or 0 * '
        'sum by (route) (rate(http_request_duration_seconds_count{}[5m]))) / '
        'sum by (route) (rate(http_request_duration_seconds_count{}[5m]))')
    assert queries["api_error_rate"]["strict"] is True


def test_selector_labels_and_window():
    queries = {q["name"]: q for q in promql.latency_queries(
        "http_server_seconds", "1m", ["route", "method"], 'job="api"', "code", (1, 3), (4, 6), (2, 4))}
    assert queries["api_latency_p95"]["query"] == (
        'histogram_quantile(0.95, sum by (le, route, method) (rate(http_server_seconds_bucket{job="api"}[1m])))')
    assert 'http_server_seconds_count{code=~"5..",job="api"}[1m]' in queries["api_error_rate"]["query"]
    assert (queries["api_error_rate"]["warn"], queries["api_latency_p99"]["crit"]) == (2, 6)


@pytest.mark.parametrize("args, message", [
    (("bad metric",), "histogram: 'bad metric' is not a Prometheus metric name"),
    (("m", "5 minutes"), "window: '5 minutes' is not a PromQL duration"),
    (("m", "5m", ["route", "le-x"]), "group_by/status_label: 'le-x' is not a label name"),
])
def test_bad_settings_name_the_option(args, message):
    with pytest.raises(InvalidInput, match=message):
        promql.latency_queries(*args)
