"""The lab API's metrics and parameters, and the Prometheus service's tool check (no services needed)."""

from __future__ import annotations

import pytest

from opsbook.lab.base import LabContext, MissingTool
from opsbook.lab.labapi import MAX_DELAY_MS, Metrics, _load_spec, _params, capacity_delay
from opsbook.lab.prometheus import Prometheus


def test_buckets_are_cumulative_and_bounds_inclusive():
    metrics = Metrics()
    for seconds in (0.5, 0.5000001, 0.004, 10.5):
        metrics.observe("orders", "GET", 200, seconds)
    lines = [line for line in metrics.exposition().splitlines() if line.startswith("http_request_duration_seconds_b")]
    counts = {line.split('le="')[1].split('"')[0]: int(line.rsplit(" ", 1)[1]) for line in lines}
    assert counts == {"0.005": 1, "0.01": 1, "0.025": 1, "0.05": 1, "0.1": 1, "0.25": 1, "0.5": 2, "1": 3,
                      "2.5": 3, "5": 3, "10": 3, "+Inf": 4}


def test_exposition_of_one_request():
    metrics = Metrics()
    metrics.observe('a"b\\c', "POST", 503, 0.25)
    labels = 'route="a\\"b\\\\c",method="POST",status="503"'
    buckets = [("0.005", 0), ("0.01", 0), ("0.025", 0), ("0.05", 0), ("0.1", 0), ("0.25", 1), ("0.5", 1), ("1", 1),
               ("2.5", 1), ("5", 1), ("10", 1), ("+Inf", 1)]
    assert metrics.exposition().splitlines() == [
        "# HELP http_request_duration_seconds Duration of HTTP requests in seconds.",
        "# TYPE http_request_duration_seconds histogram",
        *[f'http_request_duration_seconds_bucket{{{labels},le="{le}"}} {n}' for le, n in buckets],
        f"http_request_duration_seconds_sum{{{labels}}} 0.25",
        f"http_request_duration_seconds_count{{{labels}}} 1",
        "# HELP http_requests_total Total number of HTTP requests.",
        "# TYPE http_requests_total counter",
        f"http_requests_total{{{labels}}} 1",
    ]


@pytest.mark.parametrize("query, expected", [
    ("", (0, 200)),
    ("delay_ms=600&status=503", (600, 503)),
    (f"delay_ms={MAX_DELAY_MS}&status=599", (MAX_DELAY_MS, 599)),
    ("status=200&status=500", (0, 500)),
])
def test_params(query, expected):
    assert _params(query) == expected


@pytest.mark.parametrize("query, message", [
    ("delay_ms=abc", "delay_ms and status must be integers"),
    ("delay_ms=-1", "delay_ms must be between 0 and 30000"),
    (f"delay_ms={MAX_DELAY_MS + 1}", "delay_ms must be between 0 and 30000"),
    ("status=199", "status must be between 200 and 599"),
    ("status=600", "status must be between 200 and 599"),
])
def test_bad_params_are_one_message(query, message):
    with pytest.raises(ValueError) as err:
        _params(query)
    assert str(err.value) == message


def test_prometheus_missing_tool_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    svc = Prometheus(LabContext(lab_dir=tmp_path / "lab", cache_dir=tmp_path / "cache"))
    with pytest.raises(MissingTool) as err:
        svc.check_tools()
    assert str(err.value) == ("prometheus not found: install it with "
                              "`apt-get install -y --no-install-recommends prometheus`")


def test_ports_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("OPSBOOK_LAB_PROMETHEUS_PORT", "29090")
    monkeypatch.setenv("OPSBOOK_LAB_API_PORT", "28081")
    svc = Prometheus(LabContext(lab_dir=tmp_path / "lab", cache_dir=tmp_path / "cache"))
    assert (svc.url, svc.api_url) == ("http://127.0.0.1:29090", "http://127.0.0.1:28081")


@pytest.mark.parametrize("work, concurrency, replicas, expected", [
    (1000, 3, 1, (3000, 200)), (1000, 3, 2, (2000, 200)), (1000, 3, 3, (1000, 200)), (1000, 3, 5, (1000, 200)),
    (1000, 3, 0, (0, 503)), (20000, 3, 1, (MAX_DELAY_MS, 200)),
])
def test_capacity_model_shares_the_work_among_ready_replicas(work, concurrency, replicas, expected):
    assert capacity_delay(work, concurrency, replicas) == expected


def test_load_spec_defaults_and_capacity():
    capacity = {"kubeconfig": "/k", "namespace": "ns", "deployment": "bff"}
    assert _load_spec(b'{"rps": 5, "capacity": %s}' % str(capacity).replace("'", '"').encode()) == {
        "rps": 5, "work_ms": 100, "concurrency": 1, "capacity": capacity}


@pytest.mark.parametrize("body, message", [
    (b"[1]", "the body must be a JSON object"), (b"{bad", "the body must be a JSON object"),
    (b'{"rps": 0}', "rps must be an integer between 1 and 200"),
    (b'{"rps": true}', "rps must be an integer between 1 and 200"),
    (b'{"work_ms": 40000}', "work_ms must be an integer between 0 and 30000"),
    (b'{"capacity": {"namespace": "ns"}}', "capacity needs kubeconfig, namespace and deployment"),
])
def test_bad_load_specs_name_the_field(body, message):
    with pytest.raises(ValueError, match=message):
        _load_spec(body)
