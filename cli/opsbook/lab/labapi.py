"""The lab API: a small HTTP app with Prometheus metrics, for the api-latency drills.

Standard library only (``http.server``); the lab runs it as its own process::

    python -m opsbook.lab.labapi --host 127.0.0.1 --port 18081

- ``GET|POST /api/<route>?delay_ms=N&status=S`` sleeps N ms (0..30000) and answers status S
  (200..599, default 200) with a small JSON body. Bad parameters answer 400 (still counted).
- ``GET /health`` answers ``{"status": "UP"}``.
- ``GET /metrics`` is the Prometheus text exposition format 0.0.4: the histogram
  ``http_request_duration_seconds`` and the counter ``http_requests_total``, both labelled
  ``route`` (the ``<route>`` part of the path, verbatim), ``method`` and ``status``.
  ``/health`` and ``/metrics`` themselves are not counted; unknown paths answer 404 uncounted.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
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


class Handler(BaseHTTPRequestHandler):
    server_version = "opsbook-labapi/1"
    metrics: Metrics  # set on the class by make_server
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self._dispatch()

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            self._send(413, {"error": "body too large"})
            return
        self.rfile.read(length)
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
        route = url.path[len("/api/"):] if url.path.startswith("/api/") else ""
        if not ROUTE_RE.match(route):
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
    handler = type("LabApiHandler", (Handler,), {"metrics": Metrics()})
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
