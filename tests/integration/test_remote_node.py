"""`opsbook run --node`: a scenario carried to the lab's execution node (real OpenSSH sshd, user opsbook-node)
with ansible-runner transmit | ssh worker | process gives the same findings as the local run, is recorded in
the history, and really ran as the node user; a node that cannot run it is one line and exit 4."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers import closed_port, run_cli


@pytest.fixture(scope="module")
def node(lab):
    """The lab's ssh node, started for this module when it was not running (and stopped again then)."""
    services = json.loads(run_cli("lab", "status", "--json").stdout)["services"]
    was_running = services.get("ssh", {}).get("status") == "ok"
    proc = run_cli("lab", "up", "--with", "ssh")
    assert proc.returncode == 0, proc.stderr
    status = json.loads(run_cli("lab", "status", "--json").stdout)["services"]["ssh"]
    try:
        assert status["status"] == "ok", status
        yield status
    finally:
        if not was_running:
            run_cli("lab", "down", "-s", "ssh")


@pytest.fixture
def state(tmp_path):
    return {"OPSBOOK_STATE_DIR": str(tmp_path / "state")}


def accepted_logins(node: dict) -> list[str]:
    """sshd's own log lines of public-key logins of the node user."""
    text = Path(node["log"]).read_text(errors="replace")
    return [line for line in text.splitlines() if line.startswith(f"Accepted publickey for {node['user']} ")]


def key_fingerprint(node: dict) -> str:
    out = subprocess.run(["ssh-keygen", "-l", "-f", node["key_file"]], capture_output=True, text=True, check=True)
    return out.stdout.split()[1]


def triples(report: dict) -> set[tuple]:
    return {(f["check"], f["status"], f["target"]) for f in report["findings"]}


def test_health_check_on_the_node_matches_the_local_run(node, state, tmp_path):
    local = run_cli("run", "health-check", "--json", "--no-history", env=state)
    assert local.returncode == 0, local.stderr
    before = len(accepted_logins(node))
    artifacts = tmp_path / "artifacts"
    remote = run_cli("run", "health-check", "--json", "--node", "lab", "--artifacts-dir", str(artifacts), env=state)
    assert remote.returncode == 0, remote.stdout + remote.stderr
    assert f"on node {node['user']}@{node['host']}:{node['port']}" in remote.stderr
    local_report, remote_report = json.loads(local.stdout), json.loads(remote.stdout)
    assert triples(remote_report) == triples(local_report)
    assert {"postgres_reachable", "redis_reachable", "kafka_reachable"} <= {f["check"] for f in remote_report["findings"]}
    assert (remote_report["outcome"], remote_report["hosts"]) == (local_report["outcome"], local_report["hosts"])

    # sshd itself says the lab's key logged in as the node user (worker --worker-info, then the worker)
    logins = accepted_logins(node)[before:]
    assert len(logins) >= 2 and all(key_fingerprint(node) in line for line in logins), logins
    # ansible-playbook ran on the node as that user, in the worker's private dir (the artifacts came back)
    [command] = list(artifacts.glob("*/command"))
    recorded = json.loads(command.read_text())
    assert recorded["env"]["USER"] == node["user"] and recorded["cwd"].startswith("/tmp/opsbook-worker-")
    assert recorded["env"]["HOME"] != str(Path.home())
    assert not list(Path("/tmp").glob(Path(recorded["cwd"]).parts[2] + "*"))  # --delete: the node cleaned up

    history = run_cli("history", "--json", env=state)
    [run] = json.loads(history.stdout)
    assert (run["scenario"], run["outcome"], run["exit_code"]) == ("health-check", "healthy", 0)
    assert "--node" in run["command"] and "lab" in run["command"]


def assert_one_line_failure(proc, expected: str) -> None:
    output = proc.stdout + proc.stderr
    assert proc.returncode == 4, output
    assert "Traceback" not in output and "PRIVATE KEY" not in output
    [error] = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert expected in error, error


def test_an_unreachable_node_is_one_line_and_exit_4(node, state):
    port = closed_port()
    proc = run_cli("run", "health-check", "--node", f"{node['user']}@127.0.0.1:{port}", "--node-key", node["key_file"],
                   "--node-known-hosts", node["known_hosts"], env=state)
    assert_one_line_failure(proc, f"node {node['user']}@127.0.0.1:{port} unreachable: ")
    assert "Connection refused" in proc.stderr
    assert json.loads(run_cli("history", "--json", env=state).stdout) == []  # nothing ran: nothing recorded


def test_a_key_the_node_does_not_know_is_refused(node, state, tmp_path):
    key = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    proc = run_cli("run", "health-check", "--node", "lab", "--node-key", str(key), env=state)
    assert_one_line_failure(proc, "refused the login (publickey)")


def test_a_node_without_ansible_runner(node, state):
    proc = run_cli("run", "health-check", "--node", "lab", "--node-runner", "/nonexistent/bin/ansible-runner", env=state)
    assert_one_line_failure(proc, "has no ansible-runner at '/nonexistent/bin/ansible-runner'")
