"""Drill: `opsbook run api-latency` end to end on the lab - a slow route and a failing route on the lab API
(scraped by the lab's Prometheus), a cache with a poor hit rate (the lab's Redis), and a bff Deployment on
the lab's Kubernetes that `--remediate` scales out to 3 replicas (never down)."""

from __future__ import annotations

import pytest
import redis

from tests.helpers import REDIS_TEST_DB
from tests.integration.k8s_seed import deployment, seed_namespace
from tests.integration.prom_seed import capacity_load, prom_query, unique_route, values, wait_for_scrape
from tests.integration.scenario_lab import findings_by, run_scenario
from tests.integration.test_prometheus_query import burst

pytestmark = pytest.mark.lab


@pytest.fixture
def cache(redis_params):
    """The lab's Redis; ``poor_hit_rate()`` resets its statistics and makes 3 hits and 7 misses (30 %).
    Statistics are reset again afterwards."""
    client = redis.Redis(host=redis_params["host"], port=redis_params["port"], db=REDIS_TEST_DB,
                         username=redis_params["username"], password=redis_params["password"])
    key = f"redist:{unique_route('cache')}:hit"

    def poor_hit_rate():
        client.config_resetstat()
        client.set(key, "1")
        for _ in range(3):
            client.get(key)
        for i in range(7):
            client.get(f"{key}:miss:{i}")
        return client.info("stats")

    yield poor_hit_rate
    client.delete(key)
    client.config_resetstat()  # leave the shared lab's counters healthy


def test_api_latency_finds_the_slow_and_failing_routes_then_scales_out(tmp_path, prometheus_lab, k8s_lab, cache):
    base = unique_route("drill")
    slow, flaky, fast = f"{base}-slow", f"{base}-flaky", f"{base}-fast"
    burst(prometheus_lab, slow, [(600, 200, 20)])
    burst(prometheus_lab, flaky, [(0, 200, 10), (0, 503, 10)])
    burst(prometheus_lab, fast, [(0, 200, 10)])
    with seed_namespace(k8s_lab, "apilat", {"bff": 1, "order-service": 1}) as ns:
        variables = {
            "opsbook_prometheus": {"url": prometheus_lab["url"], "timeout": 5},
            "opsbook_kubernetes": {"kubeconfig": k8s_lab["kubeconfig"], "namespace": ns},
            "api_latency_selector": f'route=~"{base}-.*"',
            "api_latency_window": "1m",
            "api_latency_cache_sample_seconds": 0,
            "api_latency_log_workloads": ["bff"],
            "api_latency_log_since_minutes": 7 * 24 * 60,
            "api_latency_scale_workloads": [{"name": "bff", "replicas": 3}, {"name": "order-service", "replicas": 1}],
            "api_latency_verify_attempts": 1,  # the burst stays in the 1m window: one honest look
        }
        stats = cache()
        proc, report = run_scenario(tmp_path, "api-latency", variables)
        assert proc.returncode == 2, proc.stderr  # critical: half of the flaky route's requests fail

        p95 = findings_by(report, "api_latency_p95")
        own = values(prom_query(prometheus_lab["url"], 'histogram_quantile(0.95, sum by (le, route) '
                                f'(rate(http_request_duration_seconds_bucket{{route=~"{base}-.*"}}[1m])))'), "route")
        assert sorted(p95) == sorted(f"route={r}" for r in (slow, flaky, fast))
        assert p95[f"route={slow}"]["value"] == pytest.approx(own[slow]) == pytest.approx(0.975)
        assert p95[f"route={slow}"]["status"] == "warning"  # Techbra §2: p95 > 500 ms
        assert p95[f"route={fast}"]["status"] == "ok" and p95[f"route={flaky}"]["status"] == "ok"
        errors = findings_by(report, "api_error_rate")
        assert errors[f"route={flaky}"]["value"] == pytest.approx(50.0)
        assert errors[f"route={flaky}"]["status"] == "critical"  # > 10 %
        assert errors[f"route={slow}"]["value"] == 0.0 and errors[f"route={slow}"]["status"] == "ok"
        rate = findings_by(report, "api_request_rate")
        assert set(rate) == {f"route={r}" for r in (slow, flaky, fast)}

        # the cache hit rate fed into the scenario: INFO's counters, 30 % -> critical against the seed's 95 %
        hit = [f for f in report["findings"] if f["check"] == "redis_hit_rate"]
        expected = round(100.0 * stats["keyspace_hits"] / (stats["keyspace_hits"] + stats["keyspace_misses"]), 2)
        assert [(f["value"], f["status"]) for f in hit] == [(expected, "critical")]
        assert not [f for f in report["findings"] if f["check"] == "redis_memory_usage"]  # only the hit rate
        assert any(f["check"] == "postgres_connection_utilization" for f in report["findings"])
        assert [f["target"] for f in report["findings"] if f["check"] == "log_pattern_slow"] == [
            f"pod/{ns}/{p.metadata.name}/bff" for p in pods(k8s_lab, ns, "bff")]
        assert report["actions"] == [] and deployment(k8s_lab, ns, "bff").spec.replicas == 1  # read-only by default

        _proc, dry = run_scenario(tmp_path, "api-latency", variables, "--remediate", "--check")
        assert [(a["action"], a["target"], a["dry_run"]) for a in dry["actions"]] == [
            ("scale", f"{ns}/bff", True), ("scale", f"{ns}/order-service", True)]
        assert deployment(k8s_lab, ns, "bff").spec.replicas == 1

        _proc, done = run_scenario(tmp_path, "api-latency", variables, "--remediate")
        assert done["run"]["failed"] is False, done["failures"]
        assert [(a["action"], a["target"], a["changed"]) for a in done["actions"]] == [
            ("scale", f"{ns}/bff", True), ("scale", f"{ns}/order-service", False)]  # already at 1: never scaled down
        assert deployment(k8s_lab, ns, "bff").spec.replicas == 3
        # the verification looks again: the slow burst is still inside the window, so not resolved
        after = findings_by(done, "api_latency_p95", phase="verify")
        assert after[f"route={slow}"]["status"] == "warning"
        assert done["outcome"] == "unresolved" and _proc.returncode == 2


def pods(k8s_lab, namespace, app):
    from kubernetes import client

    items = client.CoreV1Api(k8s_lab["api_client"]).list_namespaced_pod(namespace, _request_timeout=5).items
    return sorted((p for p in items if p.metadata.name.startswith(f"{app}-")), key=lambda p: p.metadata.name)


def test_api_latency_on_the_lab_inventory_and_without_prometheus(tmp_path, prometheus_lab):
    """The lab inventory names the lab's Prometheus when it runs one; without a URL the scenario says so."""
    only = {"api_latency_check_database": False, "api_latency_check_cache": False,
            "api_latency_selector": 'route="nothing-here"'}
    proc, report = run_scenario(tmp_path, "api-latency", only)
    assert [(f["check"], f["status"], f["target"]) for f in report["findings"]][:1] == [
        ("prometheus_reachable", "ok", prometheus_lab["url"])]
    assert proc.returncode == 0, proc.stderr  # no traffic on that route: no series, nothing wrong
    proc, report = run_scenario(tmp_path, "api-latency", dict(only, opsbook_prometheus={"url": ""}))
    assert proc.returncode == 3, proc.stderr  # unknown: nothing measured
    assert [(f["check"], f["status"]) for f in report["findings"]] == [("prometheus_reachable", "unknown")]
    assert "set opsbook_prometheus.url in the inventory" in report["findings"][0]["message"]


def test_scaling_out_under_load_brings_p95_down_and_the_run_is_resolved(tmp_path, prometheus_lab, k8s_lab):
    """The lab API's capacity model: the route's latency follows the bff's ready replicas, so the fix is
    the scenario's own scale-out and the verification sees the p95 fall - nothing in the test flips it."""
    route = unique_route("scaleout")
    with seed_namespace(k8s_lab, "apiscale", {"bff": 1}) as ns:
        capacity = {"kubeconfig": k8s_lab["kubeconfig"], "namespace": ns, "deployment": "bff"}
        with capacity_load(prometheus_lab["api_url"], route, rps=10, work_ms=400, concurrency=3, capacity=capacity):
            wait_for_scrape(prometheus_lab["url"], P95_5S % route, lambda r: bool(r) and float(r[0]["value"][1]) > 1)
            variables = {
                "opsbook_prometheus": {"url": prometheus_lab["url"], "timeout": 5},
                "opsbook_kubernetes": {"kubeconfig": k8s_lab["kubeconfig"], "namespace": ns},
                "api_latency_selector": f'route="{route}"', "api_latency_window": "5s",
                "api_latency_check_cache": False, "api_latency_check_database": False,
                "api_latency_scale_workloads": [{"name": "bff", "replicas": 3}],
                "api_latency_verify_attempts": 20, "api_latency_verify_delay": 1,
            }
            proc, report = run_scenario(tmp_path, "api-latency", variables, "--remediate")
        assert [(a["action"], a["target"], a["changed"]) for a in report["actions"]] == [("scale", f"{ns}/bff", True)]
        before = findings_by(report, "api_latency_p95", phase="diagnose")[f"route={route}"]
        after = findings_by(report, "api_latency_p95", phase="verify")[f"route={route}"]
        assert before["status"] != "ok" and before["value"] > 1  # 1.2 s requests with one replica
        assert after["status"] == "ok" and after["value"] <= 0.5  # 0.4 s with three
        assert (report["outcome"], proc.returncode) == ("resolved", 0), report["findings"]


P95_5S = 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{route="%s"}[5s])))'
