"""security-audit drill: a burst of failed logins from two addresses in a real log (a file, a compose container's
logs on the lab Docker engine) -> exactly those addresses over the seed's "> 20 in 5 minutes", the one at exactly 20
not; counts equal awk's on the same log. The lab's TLS endpoints: the valid one sends HSTS (ok), the expiring one
does not (finding), as `curl -sI` sees them; the lab API sends no security headers. Through the CLI, the exit code
follows the outcome.
"""

from __future__ import annotations

import datetime
import subprocess
import uuid

import pytest

from tests.docker_cli import docker
from tests.helpers import lab_state, run_module
from tests.integration.scenario_lab import findings_by, run_scenario

pytestmark = pytest.mark.lab

BURST = {"192.0.2.1": 25, "192.0.2.2": 22, "192.0.2.3": 20}  # 20 is the seed's limit: not over it
OLD = {"192.0.2.4": 40}  # ten minutes ago: outside the 5-minute window


def _stamp(minutes_ago: float) -> str:
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=minutes_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def burst_lines(counts, minutes_ago):
    """One sshd line per attempt, and an application JSON line per attempt (each attempt counted once)."""
    lines = []
    for address, attempts in counts.items():
        for n in range(attempts):
            if n % 2:
                lines.append(f"{_stamp(minutes_ago)} web sshd[{900 + n}]: Failed password for invalid user admin "
                             f"from {address} port {40000 + n} ssh2")
            else:
                lines.append(f'{_stamp(minutes_ago)} {{"level":"warn","msg":"Failed login","ip":"{address}",'
                             f'"username":"user{n}"}}')
    return lines


def awk_counts(path, since: str) -> dict:
    """Failed logins per address at or after ``since`` (ISO strings sort as times), by awk as an SRE counts them."""
    program = ('$1 >= since && /Failed password for|Failed login/ { if (match($0, /(from |"ip":")[0-9.]+/)) {'
               ' a = substr($0, RSTART, RLENGTH); sub(/^(from |"ip":")/, "", a); n[a]++ } }'
               ' END { for (a in n) print a, n[a] }')
    out = subprocess.run(["awk", "-v", f"since={since}", program, str(path)], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    return {line.split()[0]: int(line.split()[1]) for line in out.splitlines()}


@pytest.fixture(scope="module")
def tls_lab():
    from opsbook.lab.core import Lab

    Lab(log=lambda *_: None).up(["tls"])
    return lab_state()["services"]["tls"]


@pytest.fixture
def auth_log(tmp_path):
    path = tmp_path / "auth.log"
    path.write_text("\n".join(burst_lines(OLD, 10) + burst_lines(BURST, 1)
                              + [f"{_stamp(1)} web sshd[1]: Accepted publickey for deploy from 192.0.2.50 port 1 ssh2",
                                 f'{_stamp(1)} 192.0.2.60 - - "GET /api/login HTTP/1.1" 429 17',
                                 f'{_stamp(1)} 192.0.2.61 - - "GET /api/admin HTTP/1.1" 403 9']) + "\n")
    return path


def test_cli_burst_in_a_file_and_headers_of_the_lab_tls_endpoints(tmp_path, auth_log, tls_lab):
    since = _stamp(5)
    expected = awk_counts(auth_log, since)
    assert expected == BURST  # awk sees the burst, and not the old lines
    valid, expiring = tls_lab["ports"]["valid"], tls_lab["ports"]["expiring"]
    variables = {
        "security_audit_log_paths": [str(auth_log)],
        "security_audit_urls": [{"name": "lab-tls-valid", "url": f"https://localhost:{valid}/"},
                                {"name": "lab-tls-expiring", "url": f"https://localhost:{expiring}/"}],
        "security_audit_headers": ["hsts"],
        "security_audit_tls": False,
    }
    proc, report = run_scenario(tmp_path, "security-audit", variables)
    assert proc.returncode == 1, proc.stderr  # warnings only: action_needed, exit 1
    assert report["outcome"] == "action_needed" and report["status"] == "warning"
    per_ip = findings_by(report, "log_pattern_failed_login_by_ip")
    assert sorted(per_ip) == ["192.0.2.1", "192.0.2.2"]
    assert {ip: f["value"] for ip, f in per_ip.items()} == {ip: n for ip, n in expected.items() if n > 20}
    assert all(f["status"] == "warning" and f["threshold"]["strict"] for f in per_ip.values())
    [total] = findings_by(report, "log_pattern_failed_login").values()
    assert (total["status"], total["value"]) == ("warning", sum(expected.values()))
    assert [f["value"] for f in findings_by(report, "log_pattern_rate_limited").values()] == [1]
    assert [f["value"] for f in findings_by(report, "log_pattern_unauthorized").values()] == [1]
    hsts = findings_by(report, "security_header_hsts")
    assert (hsts["lab-tls-valid"]["status"], hsts["lab-tls-valid"]["state"]) == ("ok", "present")
    assert (hsts["lab-tls-expiring"]["status"], hsts["lab-tls-expiring"]["state"]) == ("warning", "missing")
    # curl -sI, as SparkOne's weekly check does it, sees the same
    for port, present in ((valid, True), (expiring, False)):
        head = subprocess.run(["curl", "-sI", "--max-time", "5", "--cacert", tls_lab["ca_file"], f"https://localhost:{port}/"],
                              capture_output=True, text=True, timeout=20, check=True).stdout
        assert ("strict-transport-security:" in head.lower()) is present


def test_cli_at_exactly_the_limit_is_healthy(tmp_path, tls_lab):
    path = tmp_path / "auth.log"
    path.write_text("\n".join(burst_lines({"192.0.2.3": 20}, 1)) + "\n")
    variables = {"security_audit_log_paths": [str(path)], "security_audit_headers": ["hsts"], "security_audit_tls": False,
                 "security_audit_urls": [f"https://localhost:{tls_lab['ports']['valid']}/"]}
    proc, report = run_scenario(tmp_path, "security-audit", variables)
    assert proc.returncode == 0 and report["outcome"] == "healthy", report["findings"]
    [per_ip] = findings_by(report, "log_pattern_failed_login_by_ip").values()
    assert (per_ip["status"], per_ip["value"]) == ("ok", 20)


def test_lab_api_sends_no_security_headers(prometheus_lab):
    result = run_module("security_headers", {"urls": [{"name": "lab-api", "url": prometheus_lab["api_url"] + "/health"}]})
    assert not result.get("failed"), result
    assert {f["check"]: f["state"] for f in result["findings"]} == {
        "security_header_hsts": "plain_http", "security_header_x_frame_options": "missing",
        "security_header_x_content_type_options": "missing", "security_header_csp": "missing"}
    assert result["status"] == "warning"
    down = run_module("security_headers", {"urls": ["http://127.0.0.1:9/"], "timeout": 2})
    assert [(f["check"], f["status"]) for f in down["findings"]] == [("http_reachable", "critical")]


@pytest.fixture
def compose_burst(docker_lab, tmp_path):
    """A container of a compose project of our own that logs the burst (no timestamps of its own: Docker's count)."""
    env, project = docker_lab["env"], f"scen-{uuid.uuid4().hex[:8]}"
    script = tmp_path / "burst.txt"
    script.write_text("\n".join(line.split(" ", 1)[1] for line in burst_lines(BURST, 0)) + "\n")
    container = f"{project}_api_1"
    docker(env, "run", "-d", "--name", container, "--network", "host", "-v", f"{tmp_path}:/data:ro",
           "--label", f"com.docker.compose.project={project}", "--label", "com.docker.compose.service=api",
           "--label", "com.docker.compose.container-number=1", docker_lab["image"], "cat", "/data/burst.txt")
    docker(env, "wait", container)
    yield project, container
    docker(env, "rm", "-f", container)


def test_compose_container_logs_per_address(docker_lab, compose_burst, tmp_path):
    project, container = compose_burst
    logs = subprocess.run(["docker", "logs", "--timestamps", container], env=docker_lab["env"], capture_output=True,
                          text=True, timeout=60, check=True)
    log_file = tmp_path / "docker-logs.txt"
    log_file.write_text(logs.stdout + logs.stderr)
    expected = awk_counts(log_file, "0")
    assert expected == BURST
    result = run_module("log_scan", {"ref": "compose/api", "project": project, "docker_host": docker_lab["docker_host"],
                                     "since_minutes": 5, "patterns": [
                                         {"name": "failed_login", "regex": "(?i)failed.*login|Failed password for",
                                          "group_by": "ip", "warn": 20, "strict": True}]})
    assert not result.get("failed"), result
    assert result["groups"]["failed_login"] == expected
    over = [f["target"] for f in result["findings"] if f["check"] == "log_pattern_failed_login_by_ip"]
    assert over == ["192.0.2.1", "192.0.2.2"]
