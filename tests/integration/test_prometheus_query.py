"""prometheus_query against the lab's real Prometheus, scraping the lab API every second.

Every test drives traffic to routes of its own, first one request per series so the series exists
before the measured burst (a series that appears with its final value has no increase for rate()).
Numbers are checked against Prometheus's own answer to the same PromQL and against the histogram's
definition: 20 requests of 600 ms all fall into the (0.5, 1] bucket, so the 0.95 quantile is
0.5 + 0.5 * 0.95 = 0.975 s.
"""

from __future__ import annotations

import time

import pytest

from tests.helpers import closed_port, run_module
from tests.integration.prom_seed import api_traffic, prom_query, scraped_after, unique_route, values

pytestmark = pytest.mark.lab


def burst(prom, route, requests):
    """``requests``: [(delay_ms, status, count)]. One warm-up request each, a scrape, then count - 1 more, a scrape."""
    for delay, status, _count in requests:
        api_traffic(prom["api_url"], route, 1, delay_ms=delay, status=status)
    scraped_after(prom["url"], f'http_request_duration_seconds_count{{route="{route}"}}', time.time())
    for delay, status, count in requests:
        api_traffic(prom["api_url"], route, count - 1, delay_ms=delay, status=status, concurrency=10)
    scraped_after(prom["url"], f'http_request_duration_seconds_count{{route="{route}"}}', time.time())


P95 = 'histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{route=~"%s"}[1m])))'
ERRORS = ('100 * (sum by (route) (rate(http_request_duration_seconds_count{route=~"%s",status=~"5.."}[1m]))'
          ' or 0 * sum by (route) (rate(http_request_duration_seconds_count{route=~"%s"}[1m])))'
          ' / sum by (route) (rate(http_request_duration_seconds_count{route=~"%s"}[1m]))')


def test_p95_and_error_rate_per_route(prometheus_lab):
    slow, flaky = unique_route("pq-slow"), unique_route("pq-flaky")
    burst(prometheus_lab, slow, [(600, 200, 20)])
    burst(prometheus_lab, flaky, [(0, 200, 10), (0, 503, 10)])
    both = f"{slow}|{flaky}"
    result = run_module("prometheus_query", {"url": prometheus_lab["url"], "queries": [
        {"name": "p95", "description": "p95 latency", "query": P95 % slow, "warn": 0.5, "crit": 2, "unit": "s"},
        {"name": "errors", "description": "5xx share", "query": ERRORS % (both, both, both), "warn": 5, "crit": 10,
         "unit": "%", "strict": True, "target_labels": ["route"]},
    ]})
    assert result.get("failed") is not True, result
    found = {(f["check"], f["target"]): f for f in result["findings"]}
    # what Prometheus itself answers to the same queries
    own_p95 = values(prom_query(prometheus_lab["url"], P95 % slow))
    own_errors = values(prom_query(prometheus_lab["url"], ERRORS % (both, both, both)), "route")
    p95 = found[("p95", f"route={slow}")]
    assert p95["value"] == pytest.approx(own_p95) == pytest.approx(0.975)
    assert p95["status"] == "warning"
    assert p95["message"].startswith(f"p95 latency for route={slow} is 0.9")
    assert p95["message"].endswith(" s, at or above the warning threshold of 0.5 s")
    assert found[("errors", f"route={flaky}")]["value"] == pytest.approx(own_errors[flaky]) == pytest.approx(50.0)
    assert found[("errors", f"route={flaky}")]["status"] == "critical"
    assert found[("errors", f"route={slow}")]["value"] == own_errors[slow] == 0.0
    assert found[("errors", f"route={slow}")]["status"] == "ok"
    assert found[("prometheus_reachable", prometheus_lab["url"])]["status"] == "ok"
    assert result["status"] == "critical"
    assert [r["name"] for r in result["results"]] == ["p95", "errors"]


def test_nothing_to_measure_bad_query_and_unreachable(prometheus_lab):
    idle = unique_route("pq-idle")
    result = run_module("prometheus_query", {"url": prometheus_lab["url"], "queries": [
        {"name": "missing", "query": P95 % idle, "empty": "unknown"},
        {"name": "typo", "query": "sum(rate(http_requests_total[1m]"},
    ]})
    assert result.get("failed") is not True, result
    by_check = {f["check"]: f for f in result["findings"]}
    assert by_check["missing"]["status"] == "unknown"
    assert "returned no series" in by_check["missing"]["message"]
    assert by_check["typo"]["status"] == "unknown"
    assert by_check["typo"]["message"].startswith("typo failed: Prometheus refused the query: bad_data:")
    down = run_module("prometheus_query", {"url": f"http://127.0.0.1:{closed_port()}", "timeout": 2,
                                           "queries": [{"name": "up", "query": "up"}]})
    assert down.get("failed") is not True, down
    assert [(f["check"], f["status"]) for f in down["findings"]] == [("prometheus_reachable", "critical")]
    assert "Connection refused" in down["findings"][0]["message"]


def test_credentials_never_reach_the_result(prometheus_lab):
    host = prometheus_lab["url"].split("://", 1)[1]
    result = run_module("prometheus_query", {"url": f"http://admin:pa55-word-42@{host}", "bearer_token": None,
                                             "queries": [{"name": "up", "query": 'up{job="lab-api"}', "crit": 0.5,
                                                          "direction": "below"}]})
    assert result.get("failed") is not True, result
    assert "pa55-word-42" not in str(result)
    assert result["prometheus"]["url"] == prometheus_lab["url"]
    assert [f["status"] for f in result["findings"] if f["check"] == "up"] == ["ok"]
    mixed = run_module("prometheus_query", {"url": prometheus_lab["url"], "bearer_token": "tok-s3cr3t", "username": "u",
                                            "queries": [{"name": "up", "query": "up"}]})
    assert mixed["failed"] and mixed["msg"] == "bearer_token and username/password are mutually exclusive"
    assert "tok-s3cr3t" not in str(mixed)
