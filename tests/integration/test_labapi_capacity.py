"""The lab API's capacity model on the lab's Kubernetes and Prometheus: the latency of a loaded route
follows the ready replicas of a Deployment, so scaling it out (with kubectl, as an SRE would) is what
brings the p95 down - the recovery the alert-loop drills observe."""

from __future__ import annotations

import subprocess

import pytest

from tests.helpers import poll
from tests.integration.k8s_seed import seed_namespace
from tests.integration.prom_seed import capacity_load, unique_route, values, wait_for_scrape

pytestmark = pytest.mark.lab

P95 = 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{route="%s"}[5s])))'


def test_scaling_the_deployment_out_brings_the_latency_down(prometheus_lab, k8s_lab):
    route = unique_route("capacity")
    with seed_namespace(k8s_lab, "capacity", {"bff": 1}) as ns:
        capacity = {"kubeconfig": k8s_lab["kubeconfig"], "namespace": ns, "deployment": "bff"}
        with capacity_load(prometheus_lab["api_url"], route, rps=10, work_ms=400, concurrency=3,
                           capacity=capacity) as view:
            assert view()["delay_ms"] == 1200 and view()["replicas"] == 1
            # 1.2 s requests fall in the (1, 2.5] bucket: Prometheus's p95 interpolates inside it
            slow = values(wait_for_scrape(prometheus_lab["url"], P95 % route,
                                          lambda r: bool(r) and float(r[0]["value"][1]) > 1))
            assert 1 < slow <= 2.5
            subprocess.run(["kubectl", "--kubeconfig", k8s_lab["kubeconfig"], "-n", ns, "scale", "deployment/bff",
                            "--replicas=3"], check=True, capture_output=True, timeout=30)
            assert poll(lambda: view()["replicas"] == 3, timeout=30)
            assert view()["delay_ms"] == 400
            fast = values(wait_for_scrape(prometheus_lab["url"], P95 % route,
                                          lambda r: bool(r) and float(r[0]["value"][1]) <= 0.5, timeout=30))
            assert 0.25 < fast <= 0.5
