"""The lab's Prometheus (Debian's 2.42) scraping the lab API: exact counts, buckets and quantiles.

Every test sends traffic to a route of its own (the app and Prometheus are shared and cumulative)
and reads Prometheus only after a scrape that started after the traffic ended.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import run_cli
from tests.integration.prom_seed import api_traffic, prom_query, scraped_after, unique_route, values, wait_for_scrape

pytestmark = pytest.mark.lab

LE_BELOW = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5")
LE_ABOVE = ("1", "2.5", "5", "10", "+Inf")
SLOW_COUNT, SLOW_DELAY_MS = 20, 600


def scrape(api_url: str) -> str:
    with urllib.request.urlopen(f"{api_url}/metrics", timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return response.read().decode()


@pytest.fixture(scope="module")
def slow_route(prometheus_lab):
    """SLOW_COUNT requests of SLOW_DELAY_MS to a new route, scraped; the route's name.

    One request first, scraped, then the rest: rate() needs an increase between two samples
    of the same series, so the route's series must exist before the bulk of its traffic.
    """
    prom, api, route = prometheus_lab["url"], prometheus_lab["api_url"], unique_route()
    assert api_traffic(api, route, 1, delay_ms=SLOW_DELAY_MS) == [200]
    scraped_after(prom, f'http_request_duration_seconds_count{{route="{route}"}}', time.time())
    statuses = api_traffic(api, route, SLOW_COUNT - 1, delay_ms=SLOW_DELAY_MS, concurrency=4)
    assert statuses == [200] * (SLOW_COUNT - 1)
    scraped_after(prom, f'http_request_duration_seconds_count{{route="{route}"}}', time.time())
    return route


def test_metrics_pass_promtool_and_count_only_api_routes(prometheus_lab):
    api, route = prometheus_lab["api_url"], unique_route()
    assert api_traffic(api, route, 3) == [200] * 3
    assert api_traffic(api, route, 2, status=503) == [503] * 2
    assert api_traffic(api, f"{route}/x", 1, delay_ms=-1) == [400]  # bad input is answered and counted
    with urllib.request.urlopen(f"{api}/health", timeout=5) as response:
        assert json.loads(response.read()) == {"status": "UP"}
    scrape(api)  # /health and /metrics are not counted
    text = scrape(api)
    check = subprocess.run([prometheus_lab["tools"]["promtool"], "check", "metrics"], input=text,
                           capture_output=True, text=True, timeout=30)
    assert (check.returncode, check.stdout, check.stderr) == (0, "", "")
    mine = sorted(line for line in text.splitlines() if line.startswith("http_requests_total") and route in line)
    assert mine == [
        f'http_requests_total{{route="{route}",method="GET",status="200"}} 3',
        f'http_requests_total{{route="{route}",method="GET",status="503"}} 2',
        f'http_requests_total{{route="{route}/x",method="GET",status="400"}} 1',
    ]
    assert 'route="health"' not in text and 'route="metrics"' not in text
    buckets = [line.split("{", 1)[1] for line in text.splitlines()
               if line.startswith("http_request_duration_seconds_bucket") and f'route="{route}",' in line
               and 'status="200"' in line]
    assert [b.split('le="')[1].split('"')[0] for b in buckets] == [*LE_BELOW, *LE_ABOVE]
    assert buckets[-1].endswith("} 3")


def test_generated_config_passes_promtool(prometheus_lab, lab):
    check = subprocess.run([prometheus_lab["tools"]["promtool"], "check", "config", prometheus_lab["config"]],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    targets = prom_query(prometheus_lab["url"], "up")
    probes = {r["metric"]["instance"] for r in targets if r["metric"]["job"] == "blackbox"}
    # with `--with alertmanager` the blackbox exporter probes the lab's health endpoints (instance = the URL)
    assert (f"{prometheus_lab['api_url']}/health" in probes) is ("alertmanager" in lab["services"])
    assert {r["metric"]["job"]: r["metric"]["instance"] for r in targets if r["metric"]["job"] != "blackbox"} == {
        "prometheus": f"127.0.0.1:{prometheus_lab['port']}", "lab-api": f"127.0.0.1:{prometheus_lab['api_port']}",
        "node": f"127.0.0.1:{prometheus_lab['node_exporter_port']}",
        "kafka-jmx": f"127.0.0.1:{lab['services']['kafka']['jmx_port']}"}


def test_prometheus_counts_every_request(prometheus_lab, slow_route):
    count = prom_query(prometheus_lab["url"], f'http_request_duration_seconds_count{{route="{slow_route}"}}')
    assert len(count) == 1
    assert count[0]["metric"] == {"__name__": "http_request_duration_seconds_count", "instance":
                                  f"127.0.0.1:{prometheus_lab['api_port']}", "job": "lab-api",
                                  "route": slow_route, "method": "GET", "status": "200"}
    assert values(count) == SLOW_COUNT
    total = prom_query(prometheus_lab["url"], f'http_requests_total{{route="{slow_route}"}}')
    assert values(total) == SLOW_COUNT


def test_buckets_hold_the_delays(prometheus_lab, slow_route):
    result = prom_query(prometheus_lab["url"], f'http_request_duration_seconds_bucket{{route="{slow_route}"}}')
    assert values(result, "le") == {**{le: 0 for le in LE_BELOW}, **{le: SLOW_COUNT for le in LE_ABOVE}}
    total = values(prom_query(prometheus_lab["url"], f'http_request_duration_seconds_sum{{route="{slow_route}"}}'))
    assert SLOW_COUNT * SLOW_DELAY_MS / 1000 <= total <= SLOW_COUNT * 1.0  # every one slept 600 ms, le="1" holds all


def test_quantiles_interpolate_inside_the_bucket(prometheus_lab, slow_route):
    prom = prometheus_lab["url"]
    p95 = f'histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket{{route="{slow_route}"}}[1m])) by (le))'
    assert values(prom_query(prom, p95)) == pytest.approx(0.5 + 0.5 * 0.95, abs=1e-9)
    # ConectCRM's HighLatencyP99 expression, per route
    p99 = ('histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket[5m])) by (le, route))'
           f' and on (route) count by (route) (http_requests_total{{route="{slow_route}"}})')
    result = prom_query(prom, p99)
    assert values(result, "route") == {slow_route: pytest.approx(0.5 + 0.5 * 0.99, abs=1e-9)}


def test_5xx_are_labelled_by_status(prometheus_lab):
    prom, api, route = prometheus_lab["url"], prometheus_lab["api_url"], unique_route()
    assert api_traffic(api, route, 7, status=503) == [503] * 7
    assert api_traffic(api, route, 2, status=500) == [500] * 2
    assert api_traffic(api, route, 3) == [200] * 3
    scraped_after(prom, f'http_requests_total{{route="{route}"}}', time.time())
    by_status = values(prom_query(prom, f'sum by (status) (http_requests_total{{route="{route}"}})'), "status")
    assert by_status == {"503": 7, "500": 2, "200": 3}
    ratio = (f'sum(http_requests_total{{route="{route}",status=~"5.."}})'
             f' / sum(http_requests_total{{route="{route}"}})')
    assert values(prom_query(prom, ratio)) == pytest.approx(9 / 12, abs=1e-12)


def test_concurrent_requests_are_all_counted(prometheus_lab):
    prom, api, route = prometheus_lab["url"], prometheus_lab["api_url"], unique_route()
    assert api_traffic(api, route, 300, concurrency=16) == [200] * 300
    line = f'http_requests_total{{route="{route}",method="GET",status="200"}} 300'
    assert line in scrape(api).splitlines()
    scraped_after(prom, f'http_requests_total{{route="{route}"}}', time.time())
    assert values(prom_query(prom, f'http_requests_total{{route="{route}"}}')) == 300


def test_lookup_serves_prometheus(prometheus_lab):
    ansible = str(Path(sys.executable).with_name("ansible"))
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([ansible, "localhost", "-c", "local", "-m", "ansible.builtin.debug", "-a",
                           "msg={{ lookup('opsbook.runbooks.lab', 'prometheus') }}"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    msg = json.loads(proc.stdout.split(" => ", 1)[1])["msg"]  # localhost | SUCCESS => {...}
    assert {k: msg[k] for k in ("url", "api_url", "jobs")} == {
        k: prometheus_lab[k] for k in ("url", "api_url", "jobs")}


def test_status_then_down_and_up(prometheus_lab, lab):
    """Last in the file: it restarts the shared Prometheus and lab API (and brings them back)."""
    status = run_cli("lab", "status", "--json")
    svc = json.loads(status.stdout)["services"]["prometheus"]
    jobs = ["prometheus", "lab-api", "node", "kafka-jmx"] + (["blackbox"] if "alertmanager" in lab["services"] else [])
    assert (svc["status"], svc["url"], svc["jobs"]) == ("ok", prometheus_lab["url"], jobs)
    assert svc["detail"].startswith("Prometheus 2.")
    try:
        down = run_cli("lab", "down", "-s", "prometheus")
        assert down.returncode == 0, down.stderr
        stopped = json.loads(run_cli("lab", "status", "--json").stdout)["services"]["prometheus"]
        assert stopped["status"] == "stopped"
        with pytest.raises(OSError):
            urllib.request.urlopen(f"{prometheus_lab['api_url']}/health", timeout=2)
    finally:
        up = run_cli("lab", "up", "-s", "prometheus")
    assert up.returncode == 0, up.stderr
    assert "prometheus: up in" in up.stderr + up.stdout
    again = json.loads(run_cli("lab", "status", "--json").stdout)["services"]["prometheus"]
    assert again["status"] == "ok"
    up_now = wait_for_scrape(prometheus_lab["url"], 'up{job="lab-api"}', lambda res: values(res) == 1)
    assert values(up_now, "job") == {"lab-api": 1}
