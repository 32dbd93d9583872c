"""health-check with application endpoints and TCP ports configured (additive to the service checks)."""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from tests.helpers import closed_port, run_cli


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = json.dumps({"status": "UP" if self.path == "/up" else "DOWN"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def app():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", server.server_address[1]
    server.shutdown()
    server.server_close()


def _run(tmp_path, variables):
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps(variables))
    proc = run_cli("run", "health-check", "--json", "-e", f"@{extra}")
    return proc, json.loads(proc.stdout)


def test_endpoints_up_keep_the_check_ok(lab, app, tmp_path):
    url, port = app
    proc, report = _run(tmp_path, {
        "health_check_http_endpoints": [{"name": "api", "url": f"{url}/up"}],
        "health_check_tcp_ports": [{"host": "127.0.0.1", "port": port, "name": "api-port"}],
    })
    # The lab is shared: other drills may make a service check non-OK meanwhile, so the
    # exit code is not pinned; the application checks are, and today's checks still run.
    assert report["run"]["failed"] is False, proc.stderr
    checks = {(f["check"], f["target"]): f["status"] for f in report["findings"]}
    assert checks[("http_json", "api")] == "ok"
    assert checks[("http_status", "api")] == "ok"
    assert checks[("port_latency", "api-port")] == "ok"
    assert {"postgres_reachable", "redis_reachable", "kafka_reachable"} <= {f["check"] for f in report["findings"]}


def test_endpoint_down_and_closed_port_are_critical(lab, app, tmp_path):
    url, _ = app
    dead = closed_port()
    proc, report = _run(tmp_path, {
        "health_check_http_endpoints": [{"name": "api", "url": f"{url}/up"}, {"name": "worker", "url": f"{url}/down"}],
        "health_check_tcp_ports": [{"host": "127.0.0.1", "port": dead, "name": "db-port"}],
    })
    assert proc.returncode == 2, proc.stderr
    mine = {"api", "worker", "db-port"}
    critical = sorted((f["check"], f["target"]) for f in report["findings"] if f["status"] == "critical" and f["target"] in mine)
    assert critical == [("http_json", "worker"), ("port_reachable", "db-port")]
    assert report["status"] == "critical"
