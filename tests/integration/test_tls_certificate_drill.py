"""tls-certificate drill: the lab's TLS endpoints (`opsbook lab up --with tls`) judged by the module and by openssl.

Each lab case gives its status, and its days to expiry equal what `openssl x509 -enddate -noout` says of the
certificate `openssl s_client -connect ... -servername ...` fetched; the host name and the chain are judged as
`openssl x509 -checkhost` and `openssl s_client -CAfile` judge them. Unreachable and silent endpoints are
findings within the timeout. Through the CLI with the lab inventory, the exit code follows the outcome.
"""

from __future__ import annotations

import datetime
import json
import re
import socket
import subprocess
import time

import pytest

from tests.helpers import REPO, closed_port, lab_state, run_cli, run_module

pytestmark = pytest.mark.lab

LAB_INVENTORY = str(REPO / "inventories" / "lab")
# case: (worst status, the check that says so, its state)
EXPECTED = {
    "valid": ("ok", None, None),
    "expiring": ("warning", "tls_expiry", None),
    "expired": ("critical", "tls_expiry", None),
    "wrong_host": ("critical", "tls_hostname", "mismatch"),
    "self_signed": ("critical", "tls_chain", "self_signed"),
    "smtp": ("ok", None, None),
}


@pytest.fixture(scope="module")
def tls_lab():
    """The lab's TLS endpoints (started if needed; only that service)."""
    from opsbook.lab.core import Lab

    Lab(log=lambda *_: None).up(["tls"])
    return lab_state()["services"]["tls"]


@pytest.fixture(scope="module")
def checked(tls_lab):
    result = run_module("tls_certificate", {"endpoints": tls_lab["endpoints"], "ca_path": tls_lab["ca_file"], "timeout": 5})
    assert not result.get("failed"), result
    return result


def endpoint(tls_lab, case):
    return next(e for e in tls_lab["endpoints"] if e["port"] == tls_lab["cases"][case]["port"])


def s_client(tls_lab, case):
    """``(PEM of the server's certificate, s_client's output)`` as an SRE fetches them."""
    return s_client_endpoint(endpoint(tls_lab, case), tls_lab["ca_file"])


def s_client_endpoint(target: dict, ca_file: str):
    """``openssl s_client`` of one endpoint (``host``, ``port``, ``server_name``, ``starttls``) against ``ca_file``."""
    cmd = ["openssl", "s_client", "-connect", f"{target['host']}:{target['port']}", "-servername", target["server_name"],
           "-CAfile", ca_file]
    if target.get("starttls"):
        cmd += ["-starttls", target["starttls"]]
    proc = subprocess.run(cmd, input="", capture_output=True, text=True, timeout=20)
    found = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n", proc.stdout, re.S)
    assert found, proc.stdout + proc.stderr
    return found.group(0), proc.stdout


def openssl_x509(pem: str, *args: str) -> str:
    return subprocess.run(["openssl", "x509", "-noout", *args], input=pem, capture_output=True, text=True,
                          timeout=20, check=True).stdout.strip()


def openssl_days(pem: str) -> float:
    end = openssl_x509(pem, "-enddate")  # notAfter=Dec 11 23:41:32 2026 GMT
    not_after = datetime.datetime.strptime(end.split("=", 1)[1], "%b %d %H:%M:%S %Y GMT").replace(
        tzinfo=datetime.timezone.utc)
    return (not_after - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 86400.0


@pytest.mark.parametrize("case", list(EXPECTED))
def test_each_lab_case_status_and_days_equal_openssl(tls_lab, checked, case):
    status, check, state = EXPECTED[case]
    name = endpoint(tls_lab, case)["name"]
    [result] = [r for r in checked["endpoints"] if r["name"] == name]
    findings = {f["check"]: f for f in checked["findings"] if f["target"] == name}
    assert sorted(findings) == ["tls_chain", "tls_expiry", "tls_hostname", "tls_protocol"]
    assert result["status"] == status
    assert [c for c, f in findings.items() if f["status"] != "ok"] == ([check] if check else [])
    if state:
        assert findings[check]["state"] == state

    pem, output = s_client(tls_lab, case)
    expiry = findings["tls_expiry"]
    assert expiry["value"] == pytest.approx(openssl_days(pem), abs=0.01)  # the module rounds to 0.01 d
    assert expiry["unit"] == "d" and expiry["threshold"]["direction"] == "below"
    assert expiry["value"] == pytest.approx(tls_lab["cases"][case]["days"], abs=0.05)  # issued at the lab's start
    assert (expiry["value"] < 0) is (case == "expired")
    # host name: as openssl x509 -checkhost judges the same certificate
    checkhost = openssl_x509(pem, "-checkhost", result["expected_name"])
    assert ("does match" in checkhost) is (findings["tls_hostname"]["state"] == "match"), checkhost
    # chain: s_client's verification against the lab CA (10: expired, which is tls_expiry's, not the chain's)
    code = int(re.search(r"Verify return code: (\d+)", output).group(1))
    assert (code in (0, 10)) is (findings["tls_chain"]["state"] == "valid"), output[-400:]
    assert (code == 18) is (case == "self_signed")
    # subject, issuer and serial as openssl prints them
    assert openssl_x509(pem, "-serial") == "serial=" + result["certificate"]["serial"]
    assert result["certificate"]["self_signed"] is (case == "self_signed")
    protocol = re.search(r"Protocol\s*: (\S+)|New, (TLSv[\d.]+)", output)
    assert result["protocol"] in protocol.group(0)


def test_unreachable_and_silent_endpoints_are_findings_within_the_timeout():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts TCP, never answers a ClientHello
    try:
        started = time.monotonic()
        result = run_module("tls_certificate", {"endpoints": [f"127.0.0.1:{closed_port()}",
                                                               {"host": "127.0.0.1", "port": silent.getsockname()[1],
                                                                "name": "silent"}], "timeout": 1.5})
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert not result.get("failed"), result
    assert [(f["check"], f["status"]) for f in result["findings"]] == [("tls_reachable", "critical")] * 2
    assert "refused" in result["findings"][0]["message"]
    assert "timed out" in result["findings"][1]["message"]
    assert elapsed < 10
    assert result["status"] == "critical" and not result["changed"]


def test_certificate_files_of_the_lab(tls_lab):
    directory = tls_lab["ca_file"].rsplit("/", 1)[0]
    result = run_module("tls_certificate", {"files": [
        {"path": f"{directory}/expiring.pem", "name": "expiring-file", "expected_name": "localhost"},
        f"{directory}/self_signed.pem"], "ca_path": tls_lab["ca_file"]}, check_mode=True)
    findings = {(f["target"], f["check"]): f for f in result["findings"]}
    assert findings[("expiring-file", "tls_expiry")]["status"] == "warning"
    assert findings[("expiring-file", "tls_expiry")]["value"] == pytest.approx(
        openssl_days(open(f"{directory}/expiring.pem").read()), abs=0.01)
    assert findings[("expiring-file", "tls_hostname")]["state"] == "match"
    assert findings[("expiring-file", "tls_chain")]["state"] == "valid"
    assert findings[(f"{directory}/self_signed.pem", "tls_chain")]["state"] == "self_signed"
    assert (f"{directory}/self_signed.pem", "tls_hostname") not in findings  # no expected_name given
    assert not any(check == "tls_protocol" for _target, check in findings)


def report(*extra: str):
    proc = run_cli("run", "tls-certificate", "-i", LAB_INVENTORY, "--json", *extra)
    return proc, json.loads(proc.stdout)


def test_cli_with_the_lab_inventory(tls_lab):
    proc, rep = report()
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert (rep["outcome"], rep["status"]) == ("action_needed", "critical")
    bad = sorted((f["target"], f["check"], f["status"]) for f in rep["findings"] if f["status"] != "ok")
    assert bad == [("lab-tls-expired", "tls_expiry", "critical"), ("lab-tls-expiring", "tls_expiry", "warning"),
                   ("lab-tls-self-signed", "tls_chain", "critical"), ("lab-tls-wrong-host", "tls_hostname", "critical")]
    assert {f["target"] for f in rep["findings"]} == {e["name"] for e in tls_lab["endpoints"]}


def test_cli_warning_and_healthy_exit_codes(tls_lab):
    only = {"ca_path": tls_lab["ca_file"]}
    proc, rep = report("-e", json.dumps({"opsbook_tls": dict(only, endpoints=[endpoint(tls_lab, "expiring")])}))
    assert (proc.returncode, rep["outcome"], rep["status"]) == (1, "action_needed", "warning")
    # the seed's "< 30 days": lowered below the 10 days left, the same certificate is fine
    proc, rep = report("-e", json.dumps({"opsbook_tls": dict(only, endpoints=[endpoint(tls_lab, "expiring")]),
                                         "tls_certificate_warn_days": 9, "tls_certificate_crit_days": 2}))
    assert (proc.returncode, rep["outcome"]) == (0, "healthy"), rep["findings"]


def test_cli_not_configured():
    proc, rep = report("-e", json.dumps({"opsbook_tls": {}}))
    assert (proc.returncode, rep["outcome"]) == (3, "not_checked")
    [finding] = rep["findings"]
    assert (finding["check"], finding["state"]) == ("tls_reachable", "not_configured")
    assert "opsbook_tls" in finding["message"]
