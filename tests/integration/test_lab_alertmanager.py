"""The lab's Alertmanager (Debian's 0.25) and blackbox exporter, wired to its Prometheus.

Compared with amtool where it can: the alert a test-only rule raises is seen by
``amtool alert query``, and a real HTTP server on loopback receives Alertmanager's webhook POST
with the lab's bearer token.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.helpers import poll
from tests.integration.prom_seed import prom_query

pytestmark = pytest.mark.lab

RULE_TEMPLATE = Path(__file__).with_name("data") / "lab_always_firing.rules.yml"


def lab_prometheus():
    from opsbook.lab.core import Lab

    [prometheus] = Lab(log=lambda *_: None).services(["prometheus"])
    return prometheus


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def eventually(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def amtool(am: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([am["tools"]["amtool"], f"--alertmanager.url={am['url']}", *args],
                          capture_output=True, text=True, timeout=30)


class Receiver(ThreadingHTTPServer):
    """A webhook receiver on the lab's EDA address: keeps every POST (path, headers, body)."""

    def __init__(self, address):
        self.posts = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler):  # noqa: N805 - the server is self
                body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
                self.posts.append({"path": handler.path, "authorization": handler.headers.get("Authorization"),
                                   "body": json.loads(body)})
                handler.send_response(200)
                handler.end_headers()

            def log_message(handler, *args):
                pass

        super().__init__(address, Handler)


@pytest.fixture
def receiver(alertmanager_lab):
    parts = urlsplit(alertmanager_lab["webhook_url"])
    server = Receiver((parts.hostname, parts.port))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def firing_rule(alertmanager_lab, tmp_path):
    """A rule file of its own, installed through the lab (compressed, promtool-checked, reloaded)."""
    name = f"OpsbookLabTest{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"test-{name}.yml"
    path.write_text(RULE_TEMPLATE.read_text().replace("ALERTNAME", name))
    prometheus = lab_prometheus()
    prometheus.add_rules(path)
    yield {"name": name, "installed": prometheus.rules_dir / path.name}
    prometheus.remove_rules(path.name)


def test_alertmanager_is_ready_and_its_config_passes_amtool(alertmanager_lab):
    with urllib.request.urlopen(f"{alertmanager_lab['url']}/-/ready", timeout=5) as response:
        assert response.status == 200
    check = subprocess.run([alertmanager_lab["tools"]["amtool"], "check-config", alertmanager_lab["config"]],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    assert " - 1 receivers" in check.stdout
    token = Path(alertmanager_lab["webhook_token_file"])
    assert token.stat().st_mode & 0o777 == 0o600 and len(token.read_text().strip()) >= 24
    status = amtool(alertmanager_lab, "config", "show")
    assert status.returncode == 0 and alertmanager_lab["webhook_url"] in status.stdout


def test_prometheus_sends_to_the_lab_alertmanager(alertmanager_lab):
    prom = alertmanager_lab["prometheus"]
    # right after a (re)start or reload, Prometheus discovers its Alertmanagers within a moment
    active = poll(lambda: get_json(f"{prom['url']}/api/v1/alertmanagers")["data"]["activeAlertmanagers"], timeout=15)
    assert [a["url"] for a in active] == [f"{alertmanager_lab['url']}/api/v2/alerts"]
    check = subprocess.run([prom["tools"]["promtool"], "check", "config", prom["config"]],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr


def test_blackbox_probes_the_lab_api_health(alertmanager_lab):
    prom = alertmanager_lab["prometheus"]
    health = f"{prom['api_url']}/health"
    series = eventually(lambda: prom_query(prom["url"], f'probe_success{{job="blackbox",instance="{health}"}}'),
                        20, f"probe_success for {health}")
    assert [s["value"][1] for s in series] == ["1"]
    # the exporter itself says the same for the same target and module
    url = f"{alertmanager_lab['blackbox_url']}/probe?module=http_2xx&target={health}"
    with urllib.request.urlopen(url, timeout=5) as response:
        assert "probe_success 1" in response.read().decode()


def test_a_firing_rule_reaches_alertmanager_and_the_webhook_with_the_token(alertmanager_lab, receiver, firing_rule):
    installed = yaml.safe_load(firing_rule["installed"].read_text())
    rule = installed["groups"][0]["rules"][0]
    assert (rule["for"], rule["expr"]) == ("1s", 'max_over_time(up{job="lab-api"}[15s]) == 1')  # time compressed

    def queried():
        out = amtool(alertmanager_lab, "alert", "query", f"alertname={firing_rule['name']}", "-o", "json")
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    alerts = eventually(queried, 30, f"amtool to see {firing_rule['name']}")
    assert [a["labels"]["alertname"] for a in alerts] == [firing_rule["name"]]
    assert alerts[0]["labels"]["scenario"] == "lab-test"

    def posted():
        return [p for p in receiver.posts if p["body"].get("commonLabels", {}).get("alertname") == firing_rule["name"]]

    [post, *_] = eventually(posted, 30, "the webhook POST")
    token = Path(alertmanager_lab["webhook_token_file"]).read_text().strip()
    assert post["path"] == "/alerts"
    assert post["authorization"] == f"Bearer {token}"
    body = post["body"]
    assert (body["version"], body["status"], body["receiver"]) == ("4", "firing", "opsbook-eda")
    assert body["alerts"][0]["fingerprint"] == alerts[0]["fingerprint"]


def test_a_rule_file_promtool_refuses_is_a_clear_lab_error(alertmanager_lab, tmp_path):
    from opsbook.lab.base import LabError

    bad = tmp_path / "test-broken.yml"
    bad.write_text("groups:\n- name: g\n  rules:\n  - alert: Broken\n    expr: rate(x[5m]\n")
    prometheus = lab_prometheus()
    with pytest.raises(LabError, match=r"promtool check rules failed for .*test-broken.yml"):
        prometheus.add_rules(bad)
    assert not (prometheus.rules_dir / bad.name).exists()  # not left behind for the next reload
