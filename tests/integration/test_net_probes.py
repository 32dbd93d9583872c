"""port_check and http_health against real local servers started by the test."""

from __future__ import annotations

import http.server
import json
import socket
import ssl
import subprocess
import threading

import pytest

from tests.helpers import closed_port, run_module


class _Handler(http.server.BaseHTTPRequestHandler):
    routes = {
        "/health": (200, {"status": "UP", "db": {"status": "UP"}}),
        "/down": (503, {"status": "DOWN"}),
        "/degraded": (200, {"status": "DOWN", "db": {"status": "DOWN"}}),
        "/text": (200, "plain text"),
    }

    def do_GET(self):  # noqa: N802 (http.server naming)
        code, body = self.routes.get(self.path, (404, {"error": "not found"}))
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def _serve(server):
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    return server


@pytest.fixture(scope="module")
def http_server():
    server = _serve(http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler))
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """HTTPS with a self-signed certificate for 127.0.0.1 made by openssl."""
    tmp = tmp_path_factory.mktemp("tls")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    _serve(server)
    yield f"https://127.0.0.1:{server.server_address[1]}", str(cert)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def silent_port():
    """A listening socket that never accepts: the connect succeeds, the HTTP read times out."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    yield sock.getsockname()[1]
    sock.close()


def _by_check(result, check):
    return [f for f in result["findings"] if f["check"] == check]


def test_port_check_open_and_closed(http_server):
    open_port = int(http_server.rsplit(":", 1)[1])
    dead = closed_port()
    result = run_module("port_check", {"targets": [
        {"host": "127.0.0.1", "port": open_port, "name": "api"},
        {"host": "127.0.0.1", "port": dead, "name": "db"},
    ]}, check_mode=True)
    assert result.get("failed") is not True, result
    assert result["status"] == "critical"
    assert (result["reachable_count"], result["unreachable_count"]) == (1, 1)
    ports = {p["name"]: p for p in result["ports"]}
    assert ports["api"]["reachable"] is True and ports["api"]["latency_ms"] >= 0
    assert ports["db"]["reachable"] is False and "refused" in ports["db"]["error"].lower()
    statuses = {f["target"]: (f["check"], f["status"]) for f in result["findings"]}
    assert statuses == {"api": ("port_latency", "ok"), "db": ("port_reachable", "critical")}


@pytest.mark.parametrize("target, fragment", [
    ({"host": "127.0.0.1", "port": 0}, "targets[0]: port must be between 1 and 65535"),
    ({"host": "127.0.0.1", "port": 80, "timeout": -1}, "targets[0]: timeout must be positive"),
])
def test_port_check_bad_input_names_the_option(target, fragment):
    result = run_module("port_check", {"targets": [target]})
    assert result["failed"] is True
    assert fragment in result["msg"]


def test_http_health_status_and_json(http_server):
    result = run_module("http_health", {
        "endpoints": [
            {"name": "health", "url": f"{http_server}/health"},
            {"name": "down", "url": f"{http_server}/down"},
            {"name": "degraded", "url": f"{http_server}/degraded"},
            {"name": "db", "url": f"{http_server}/health", "json_query": "db.status"},
            {"name": "text", "url": f"{http_server}/text"},
            {"name": "missing", "url": f"{http_server}/nope", "expected_status": [404], "json_query": ""},
        ],
        "json_query": "status",
        "json_expected": "UP",
    }, check_mode=True)
    assert result.get("failed") is not True, result
    eps = {e["name"]: e for e in result["endpoints"]}
    assert {n: (e["status_code"], e["json_value"], e["status"]) for n, e in eps.items()} == {
        "health": (200, "UP", "ok"),
        "down": (503, "DOWN", "critical"),
        "degraded": (200, "DOWN", "critical"),
        "db": (200, "UP", "ok"),
        "text": (200, None, "critical"),
        "missing": (404, None, "ok"),
    }
    assert (result["healthy_count"], result["unhealthy_count"]) == (3, 3)
    assert result["status"] == "critical"
    json_msgs = {f["target"]: f["message"] for f in _by_check(result, "http_json")}
    assert json_msgs["degraded"] == "degraded: status is 'DOWN', expected 'UP'"
    assert json_msgs["text"] == "text did not return a JSON body"
    status_msgs = {f["target"]: f["message"] for f in _by_check(result, "http_status") if f["status"] != "ok"}
    assert status_msgs == {"down": "down answered HTTP 503, expected 200"}
    assert all(e["latency_ms"] >= 0 for e in result["endpoints"])


def test_http_health_unreachable_and_timeout(silent_port):
    dead = closed_port()
    result = run_module("http_health", {
        "endpoints": [f"http://127.0.0.1:{dead}/health", {"url": f"http://127.0.0.1:{silent_port}/", "timeout": 0.5}],
        "timeout": 2,
    })
    assert result.get("failed") is not True, result
    assert [f["check"] for f in result["findings"]] == ["http_reachable", "http_reachable"]
    assert all(f["status"] == "critical" for f in result["findings"])
    assert "refused" in result["endpoints"][0]["error"].lower()
    assert "timed out" in result["endpoints"][1]["error"].lower()


def test_http_health_tls_verification(tls_server):
    url, ca = tls_server
    endpoint = f"{url}/health"
    trusted = run_module("http_health", {"endpoints": [endpoint], "ca_path": ca, "json_query": "status", "json_expected": "UP"})
    assert trusted["status"] == "ok", trusted["findings"]
    untrusted = run_module("http_health", {"endpoints": [endpoint]})
    assert untrusted["status"] == "critical"
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted["endpoints"][0]["error"]
    insecure = run_module("http_health", {"endpoints": [endpoint], "validate_certs": False})
    assert insecure["status"] == "ok" and insecure["endpoints"][0]["status_code"] == 200


@pytest.mark.parametrize("args, fragment", [
    ({"endpoints": ["ftp://x/"]}, "endpoints[0]: url must start with http:// or https://"),
    ({"endpoints": ["http://127.0.0.1:1/"], "json_query": "status[["}, "endpoints[0]: json_query"),
    ({"endpoints": ["http://127.0.0.1:1/"], "ca_path": "/nonexistent/ca.pem"}, "ca_path: cannot load"),
    ({"endpoints": [{"name": "x"}]}, "endpoints[0]: url is required"),
])
def test_http_health_bad_input_names_the_option(args, fragment):
    result = run_module("http_health", args)
    assert result["failed"] is True
    assert fragment in result["msg"]
