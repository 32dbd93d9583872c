"""The lab API: a small HTTP app with Prometheus metrics, for the api-latency drills.

Standard library only (``http.server``); the lab runs it as its own process::

    python -m opsbook.lab.labapi --host 127.0.0.1 --port 18081

- ``GET|POST /api/<route>?delay_ms=N&status=S`` sleeps N ms (0..30000) and answers status S
  (200..599, default 200) with a small JSON body. Bad parameters answer 400 (still counted).
- ``GET /health`` answers ``{"status": "UP"}``.
- ``PUT /admin/load/<route>`` with ``{"rps": R, "work_ms": W, "concurrency": C, "capacity": {"kubeconfig":
  PATH, "namespace": NS, "deployment": NAME}}`` makes the app send itself R real requests a second on
  ``<route>``, each taking ``W * ceil(C / ready replicas)`` ms - a capacity model: C units of work in
  flight shared by the ready replicas of that Deployment on the lab's Kubernetes (read every second;
  none ready answers 503). Without ``capacity`` one replica is assumed. Scaling the Deployment out is
  what brings the latency down, so a drill's recovery comes from the remediation, not from the test.
  ``DELETE /admin/load/<route>`` stops it; ``GET /admin/load`` lists the loads with their replicas.
- ``GET /metrics`` is the Prometheus text exposition format 0.0.4: the histogram
  ``http_request_duration_seconds`` and the counter ``http_requests_total``, both labelled
  ``route`` (the ``<route>`` part of the path, verbatim), ``method`` and ``status``.
  ``/health`` and ``/metrics`` themselves are not counted; unknown paths answer 404 uncounted.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# Upper bounds as written in the exposition (the `le` label values), and as numbers.
BUCKETS = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10")
BOUNDS = tuple(float(b) for b in BUCKETS)
MAX_DELAY_MS = 30000
MAX_BODY = 64 * 1024
ROUTE_RE = re.compile(r"^[A-Za-z0-9_.~/-]{1,100}$")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """Thread-safe request counters: per (route, method, status) a histogram and a count."""

    def __init__(self):
        self._lock = threading.Lock()
        self._series: dict[tuple[str, str, str], dict] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, str(status))
        with self._lock:
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = {"buckets": [0] * len(BOUNDS), "sum": 0.0, "count": 0}
            for i, bound in enumerate(BOUNDS):
                if seconds <= bound:
                    series["buckets"][i] += 1
            series["sum"] += seconds
            series["count"] += 1

    def exposition(self) -> str:
        with self._lock:
            snapshot = sorted((key, dict(s, buckets=list(s["buckets"]))) for key, s in self._series.items())
        hist = [
            "# HELP http_request_duration_seconds Duration of HTTP requests in seconds.",
            "# TYPE http_request_duration_seconds histogram",
        ]
        total = [
            "# HELP http_requests_total Total number of HTTP requests.",
            "# TYPE http_requests_total counter",
        ]
        for (route, method, status), series in snapshot:
            labels = f'route="{_escape(route)}",method="{_escape(method)}",status="{status}"'
            for bucket, count in zip(BUCKETS, series["buckets"]):
                hist.append(f'http_request_duration_seconds_bucket{{{labels},le="{bucket}"}} {count}')
            hist.append(f'http_request_duration_seconds_bucket{{{labels},le="+Inf"}} {series["count"]}')
            hist.append(f"http_request_duration_seconds_sum{{{labels}}} {series['sum']!r}")
            hist.append(f"http_request_duration_seconds_count{{{labels}}} {series['count']}")
            total.append(f"http_requests_total{{{labels}}} {series['count']}")
        return "\n".join(hist + total) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _params(query: str) -> tuple[int, int]:
    """``(delay_ms, status)`` from the query string; ValueError with a message when invalid."""
    values = parse_qs(query, keep_blank_values=True)
    try:
        delay = int(values.get("delay_ms", ["0"])[-1])
        status = int(values.get("status", ["200"])[-1])
    except ValueError:
        raise ValueError("delay_ms and status must be integers") from None
    if not 0 <= delay <= MAX_DELAY_MS:
        raise ValueError(f"delay_ms must be between 0 and {MAX_DELAY_MS}")
    if not 200 <= status <= 599:
        raise ValueError("status must be between 200 and 599")
    return delay, status


def capacity_delay(work_ms: int, concurrency: int, replicas: int) -> tuple[int, int]:
    """``(delay_ms, status)`` of one request when ``concurrency`` units of ``work_ms`` share ``replicas``."""
    if replicas <= 0:
        return 0, 503
    return min(MAX_DELAY_MS, work_ms * math.ceil(concurrency / replicas)), 200


def _load_spec(body: bytes) -> dict:
    """The validated ``PUT /admin/load/<route>`` body; ValueError naming the bad field."""
    try:
        spec = json.loads(body or b"{}")
    except ValueError:
        raise ValueError("the body must be a JSON object") from None
    if not isinstance(spec, dict):
        raise ValueError("the body must be a JSON object")
    limits = {"rps": (1, 200), "work_ms": (0, MAX_DELAY_MS), "concurrency": (1, 1000)}
    for name, (low, high) in limits.items():
        value = spec.get(name, low if name != "work_ms" else 100)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ValueError(f"{name} must be an integer between {low} and {high}")
        spec[name] = value
    capacity = spec.get("capacity")
    if capacity is not None and (not isinstance(capacity, dict)
                                 or not all(isinstance(capacity.get(k), str) and capacity.get(k)
                                            for k in ("kubeconfig", "namespace", "deployment"))):
        raise ValueError("capacity needs kubeconfig, namespace and deployment (strings)")
    return {"rps": spec["rps"], "work_ms": spec["work_ms"], "concurrency": spec["concurrency"], "capacity": capacity}


class Capacity:
    """Ready replicas of the capacity Deployment (1 without one), through one API client per load."""

    def __init__(self, capacity: dict | None):
        self.capacity, self._api = capacity, None

    def ready_replicas(self) -> int:
        """-1 when Kubernetes cannot be read (the load keeps its last known value)."""
        if self.capacity is None:
            return 1
        try:
            if self._api is None:
                from kubernetes import client, config  # the lab's venv has it; imported only when a load uses it

                self._api = client.AppsV1Api(config.new_client_from_config(config_file=self.capacity["kubeconfig"]))
            status = self._api.read_namespaced_deployment_status(self.capacity["deployment"],
                                                                 self.capacity["namespace"], _request_timeout=3).status
            return int(status.ready_replicas or 0)
        except Exception:  # noqa: BLE001 - reported as -1 in GET /admin/load
            return -1


class Load:
    """Requests the app sends itself on one route, their delay following the capacity model."""

    def __init__(self, base_url: str, route: str, spec: dict, pool: ThreadPoolExecutor):
        self.base_url, self.route, self.spec, self.pool = base_url, route, spec, pool
        self.capacity = Capacity(spec["capacity"])
        self.replicas, self.sent = self.capacity.ready_replicas(), 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"load-{route}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def view(self) -> dict:
        delay, status = capacity_delay(self.spec["work_ms"], self.spec["concurrency"], max(self.replicas, 0))
        return dict(self.spec, replicas=self.replicas, delay_ms=delay, status=status, sent=self.sent)

    def _run(self) -> None:
        interval, refreshed = 1.0 / self.spec["rps"], time.monotonic()
        while not self._stop.wait(interval):
            if time.monotonic() - refreshed >= 1.0:
                replicas = self.capacity.ready_replicas()
                self.replicas = replicas if replicas >= 0 else self.replicas
                refreshed = time.monotonic()
            delay, status = capacity_delay(self.spec["work_ms"], self.spec["concurrency"], self.replicas)
            self.pool.submit(self._request, f"{self.base_url}/api/{self.route}?delay_ms={delay}&status={status}")
            self.sent += 1

    @staticmethod
    def _request(url: str) -> None:
        try:
            urllib.request.urlopen(url, timeout=MAX_DELAY_MS / 1000 + 5).close()
        except OSError:  # a 5xx answer is an HTTPError (an OSError): counted by the app all the same
            pass


class Handler(BaseHTTPRequestHandler):
    server_version = "opsbook-labapi/1"
    metrics: Metrics  # set on the class by make_server
    loads: dict  # route -> Load, set on the class by make_server
    pool: ThreadPoolExecutor
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self._dispatch()

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            self._send(413, {"error": "body too large"})
            return
        self.body = self.rfile.read(length)
        self._dispatch()

    def do_PUT(self):  # noqa: N802
        self.do_POST()

    def do_DELETE(self):  # noqa: N802
        self._dispatch()

    def _dispatch(self):
        started = time.perf_counter()
        url = urlsplit(self.path)
        if url.path == "/health" and self.command == "GET":
            self._send(200, {"status": "UP"})
            return
        if url.path == "/metrics" and self.command == "GET":
            self._send_raw(200, self.metrics.exposition().encode(), CONTENT_TYPE)
            return
        if url.path == "/admin/load" or url.path.startswith("/admin/load/"):
            self._admin_load(url.path[len("/admin/load/"):])
            return
        route = url.path[len("/api/"):] if url.path.startswith("/api/") else ""
        if not ROUTE_RE.match(route) or self.command not in ("GET", "POST"):
            self._send(404, {"error": "not found", "path": url.path})
            return
        try:
            delay_ms, status = _params(url.query)
        except ValueError as exc:
            status, body = 400, {"error": str(exc)}
        else:
            time.sleep(delay_ms / 1000.0)
            body = {"route": route, "status": status, "delay_ms": delay_ms}
        self.metrics.observe(route, self.command, status, time.perf_counter() - started)
        self._send(status, body)

    def _admin_load(self, route: str):
        if self.command == "GET" and not route:
            self._send(200, {name: load.view() for name, load in sorted(self.loads.items())})
            return
        if not ROUTE_RE.match(route) or self.command not in ("PUT", "DELETE"):
            self._send(404, {"error": "use PUT or DELETE /admin/load/<route>, GET /admin/load"})
            return
        old = self.loads.pop(route, None)
        if old is not None:
            old.stop()
        if self.command == "DELETE":
            self._send(200 if old else 404, {"route": route, "stopped": old is not None})
            return
        try:
            spec = _load_spec(getattr(self, "body", b""))
        except ValueError as exc:
            self._send(400, {"error": str(exc)})
            return
        host, port = self.server.server_address[:2]
        self.loads[route] = Load(f"http://{host}:{port}", route, spec, self.pool)
        self._send(200, {route: self.loads[route].view()})

    def _send(self, status: int, body: dict):
        self._send_raw(status, (json.dumps(body) + "\n").encode(), "application/json")

    def _send_raw(self, status: int, payload: bytes, content_type: str):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):  # noqa: A002 - quiet: traffic drills send thousands
        pass


def make_server(host: str, port: int) -> ThreadingHTTPServer:
    handler = type("LabApiHandler", (Handler,), {"metrics": Metrics(), "loads": {},
                                                 "pool": ThreadPoolExecutor(max_workers=256)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="opsbook.lab.labapi", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18081)
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port)
    print(f"labapi: listening on http://{args.host}:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
