"""incident: declare -> (idempotent re-run) -> resolve through ansible-playbook with real reports of
`opsbook run redis-health` against the lab, a real webhook receiver and a real SMTP server on loopback."""

from __future__ import annotations

import email
import email.policy
import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.helpers import REPO, closed_port, run_cli, run_module

pytestmark = pytest.mark.lab
ANSIBLE_PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))
TOKEN = "T0KEN-s3cr3t-webhook-path"
PASSWORD = "smtp-pa55-word-xyz"


class Webhook(http.server.ThreadingHTTPServer):
    def __init__(self):
        self.bodies = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(inner):
                length = int(inner.headers.get("Content-Length") or 0)
                self.bodies.append({"path": inner.path, "json": json.loads(inner.rfile.read(length))})
                inner.send_response(200)
                inner.end_headers()
                inner.wfile.write(b"ok")

            def log_message(inner, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/services/{TOKEN}"


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append({"to": envelope.rcpt_tos, "message": email.message_from_bytes(envelope.content, policy=email.policy.default),
                              "authenticated": session.authenticated})
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=auth_data.login == b"opsbook" and auth_data.password == PASSWORD.encode())


@pytest.fixture
def receivers():
    hook = Webhook()
    box = Mailbox()
    smtp = Controller(box, hostname="127.0.0.1", port=closed_port(), authenticator=authenticator,
                      auth_required=True, auth_require_tls=False)
    smtp.start()
    yield hook, box, smtp
    smtp.stop()
    hook.shutdown()


def lab_report(tmp_path, name, *extra):
    proc = run_cli("run", "redis-health", "-i", str(REPO / "inventories" / "lab"), "--json", *extra)
    path = tmp_path / f"{name}.json"
    path.write_text(proc.stdout)
    return path, json.loads(proc.stdout)


def inventory(tmp_path, hook, smtp, state_dir):
    inv = tmp_path / "inv"
    (inv / "group_vars" / "all").mkdir(parents=True)
    (inv / "hosts.yml").write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
                                   "      ansible_python_interpreter: " + sys.executable + "\n")
    (inv / "group_vars" / "all" / "incident.yml").write_text(yaml.safe_dump({"opsbook_incident": {
        "state_dir": str(state_dir),
        "escalation": [{"level": "L1", "after": "0m", "contacts": ["sre-oncall@example.com"]},
                       {"level": "L2", "after": "15m", "contacts": ["sre-lead@example.com"], "priorities": ["P1", "P2"]}],
        "notify": {"webhook": {"url": hook.url, "timeout": 5},
                   "email": {"host": "127.0.0.1", "port": smtp.port, "user": "opsbook", "password": PASSWORD,
                             "sender": "opsbook@example.com", "to": ["sre-oncall@example.com"], "timeout": 5}}}}))
    return inv


def playbook(inv, report, alert_file, *extra):
    proc = subprocess.run([ANSIBLE_PLAYBOOK, "-v", "-i", str(inv), str(REPO / "playbooks" / "incident.yml"),
                           "-e", f"opsbook_incident_report={report}", "-e", f"@{alert_file}", *extra],
                          capture_output=True, text=True, timeout=180, env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_declare_rerun_resolve_notifies_once_per_state(tmp_path, receivers):
    hook, box, smtp = receivers
    state_dir = tmp_path / "incidents"
    inv = inventory(tmp_path, hook, smtp, state_dir)
    # the diagnosis: Redis's real client count against a limit it must exceed -> critical, action_needed
    bad_path, bad = lab_report(tmp_path, "bad", "-e", '{"redis_health_clients_warn_pct": 0, "redis_health_clients_crit_pct": 0.0001}')
    assert bad["outcome"] == "action_needed" and bad["timeline"]
    alert_file = tmp_path / "alert.json"
    alert_file.write_text(json.dumps({"opsbook_incident_alert": {
        "status": "firing", "labels": {"alertname": "RedisClientsHigh", "severity": "warning", "instance": "redis-lab"},
        "annotations": {"summary": "Redis clients high"}, "startsAt": bad["started"].replace("Z", ".5Z"),
        "fingerprint": "0f1e2d3c4b5a6978"}}))

    first = playbook(inv, bad_path, alert_file)
    record_file = state_dir / "0f1e2d3c4b5a6978.json"
    record = json.loads(record_file.read_text())
    assert (record["state"], record["priority"], record["escalation"]["level"]) == ("declared", "P2", "L1")
    assert [e["state"] for e in record["events"]] == ["declared"]
    assert record["events"][0]["notified"] == {"webhook": "sent", "email": "sent"}
    assert len(hook.bodies) == 1 and hook.bodies[0]["json"]["text"].startswith("🚨 INCIDENT DECLARED: RedisClientsHigh on redis-lab")
    assert "Severity: P2 (Alto)" in hook.bodies[0]["json"]["text"]
    assert len(box.messages) == 1 and box.messages[0]["message"]["Subject"].startswith("🚨 INCIDENT DECLARED")
    assert box.messages[0]["to"] == ["sre-oncall@example.com"] and box.messages[0]["authenticated"]
    postmortem = state_dir / "0f1e2d3c4b5a6978.postmortem.md"
    text = postmortem.read_text()
    assert text.startswith("# Post-Mortem: RedisClientsHigh on redis-lab") and "Check Redis" in text and "não resolvido" in text

    again = playbook(inv, bad_path, alert_file)  # the same input: nothing changes, nothing is sent
    assert "changed=0" in again.stdout
    assert len(hook.bodies) == 1 and len(box.messages) == 1
    assert json.loads(record_file.read_text()) == record

    good_path, good = lab_report(tmp_path, "good")
    assert good["outcome"] == "healthy"
    playbook(inv, good_path, alert_file)
    record = json.loads(record_file.read_text())
    assert record["state"] == "resolved" and [e["state"] for e in record["events"]] == ["declared", "resolved"]
    assert record["mttr_minutes"] is not None and record["resolved_at"] >= good["started"]
    assert len(hook.bodies) == 2 and hook.bodies[1]["json"]["text"].startswith("✅ INCIDENT RESOLVED")
    assert len(box.messages) == 2 and box.messages[1]["message"]["Subject"].startswith("✅ INCIDENT RESOLVED")
    text = postmortem.read_text()
    assert "- MTTR: " in text and "não resolvido" not in text and "incident resolved" in text

    # secrets: in no result, record, post-mortem or output
    for blob in (first.stdout, first.stderr, again.stdout, record_file.read_text(), text):
        assert TOKEN not in blob and PASSWORD not in blob
    assert hook.bodies[0]["path"].endswith(TOKEN)  # ... and still used to deliver


def test_check_mode_sends_nothing_and_failures_are_findings(tmp_path, receivers):
    hook, box, smtp = receivers
    _, bad = lab_report(tmp_path, "bad", "-e", '{"redis_health_clients_warn_pct": 0, "redis_health_clients_crit_pct": 0.0001}')
    args = {"report": bad, "state_dir": str(tmp_path / "s"), "template_path": [str(REPO / "playbooks/templates/incident")],
            "notifications": {"webhook": {"url": hook.url}}}
    dry = run_module("incident", args, check_mode=True)
    assert dry["changed"] is True and [m["state"] for m in dry["messages"]] == ["declared"]
    assert dry["messages"][0]["notified"] == {"webhook": "check_mode"}
    assert hook.bodies == [] and not (tmp_path / "s" / "redis-health-lab-local.json").exists()

    down = dict(args, notifications={"webhook": {"url": f"http://127.0.0.1:{closed_port()}/{TOKEN}", "timeout": 2},
                                     "email": {"host": "127.0.0.1", "port": smtp.port, "user": "opsbook",
                                               "password": "wrong-" + PASSWORD, "sender": "a@b", "to": ["c@d"],
                                               "timeout": 3}})
    result = run_module("incident", down)
    assert not result.get("failed"), result
    notify = [f for f in result["findings"] if f["check"] == "incident_notify"]
    assert [(f["status"], f["target"]) for f in notify] == [("warning", "webhook"), ("warning", "email")]
    assert "Connection refused" in notify[0]["message"]
    assert notify[1]["message"].startswith("could not notify the incident: email via 127.0.0.1:%d: " % smtp.port)
    assert TOKEN not in json.dumps(result) and PASSWORD not in json.dumps(result)
    assert box.messages == []
    record = json.loads((tmp_path / "s" / "redis-health-lab-local.json").read_text())
    assert record["events"][0]["notified"] == {"webhook": "failed", "email": "failed"}
