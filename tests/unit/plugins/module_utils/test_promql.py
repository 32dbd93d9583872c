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


# --- SLO error budget ------------------------------------------------------------------------------------------

def slo_by_name(slo, pairs=None):
    return {q["name"]: q for q in promql.slo_queries(slo, pairs)}


def test_availability_slo_the_seed_ratio_budget_and_workbook_pairs():
    queries = slo_by_name({"name": "conectcrm", "objective": 99.9})
    ratio = ('((sum(rate(http_requests_total{status=~"5.."}[30d])) or vector(0)) / '
             'sum(rate(http_requests_total{}[30d])))')
    assert queries["slo_sli"]["query"] == "100 * (1 - %s)" % ratio
    assert (queries["slo_sli"]["crit"], queries["slo_sli"]["direction"], queries["slo_sli"]["strict"]) == (99.9, "below", True)
    assert queries["slo_error_budget_left"]["query"] == "100 * (1 - %s / (1 - 99.9 / 100))" % ratio
    assert (queries["slo_error_budget_left"]["crit"], queries["slo_error_budget_left"]["warn"]) == (0, None)
    assert [n for n in queries if n.startswith("slo_burn")] == ["slo_burn_rate_1h_5m", "slo_burn_rate_6h_30m"]
    assert (queries["slo_burn_rate_1h_5m"]["crit"], queries["slo_burn_rate_6h_30m"]["crit"]) == (14.4, 6)
    long_rate = '(((sum(rate(http_requests_total{status=~"5.."}[1h])) or vector(0)) / sum(rate(http_requests_total{}[1h]))) / (1 - 99.9 / 100))'
    short_rate = long_rate.replace("[1h]", "[5m]")
    assert queries["slo_burn_rate_1h_5m"]["query"] == "(%s <= %s) or %s" % (long_rate, short_rate, short_rate)


def test_latency_slo_counts_the_bucket_as_good():
    queries = slo_by_name({"name": "p95", "kind": "latency", "objective": 95, "latency_le": "2.5", "window": "1m",
                           "selector": 'route="a"'}, [{"long": "1m", "short": "10s", "factor": 2}])
    assert queries["slo_sli"]["query"] == (
        '100 * (1 - (1 - (sum(rate(http_request_duration_seconds_bucket{le="2.5",route="a"}[1m])) or vector(0)) / '
        'sum(rate(http_request_duration_seconds_count{route="a"}[1m]))))')
    assert list(queries) == ["slo_sli", "slo_error_budget_left", "slo_burn_rate_1m_10s"]


@pytest.mark.parametrize("slo, pairs, message", [
    ({"name": "a", "objective": 100}, None, "objective must be between 0 and 100"),
    ({"name": "a", "objective": "99.9"}, None, "objective must be a number"),
    ({"name": "a", "objective": 99, "window": "30 days"}, None, "is not a PromQL duration"),
    ({"name": "a", "objective": 99, "kind": "latency"}, None, "needs latency_le"),
    ({"name": "a", "objective": 99, "kind": "errors"}, None, "kind must be one of"),
    ({"name": "a", "objective": 99, "metric": "bad metric"}, None, "not a Prometheus metric name"),
    ({"name": "a", "objective": 99, "error_status": '5"'}, None, "without quotes"),
    ({"objective": 99}, None, "needs a name"),
    ({"name": "a", "objective": 99}, [{"long": "1h", "short": "5m", "factor": 0}], "factor must be a positive number"),
    ({"name": "a", "objective": 99}, [{"long": "1h", "short": "5m", "factor": 1, "x": 1}], "expected {long, short, factor}"),
])
def test_slo_bad_input(slo, pairs, message):
    with pytest.raises(InvalidInput, match=message):
        promql.slo_queries(slo, pairs)
