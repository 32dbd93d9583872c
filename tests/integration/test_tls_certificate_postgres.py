"""tls-certificate with ``starttls: postgres`` against real PostgreSQL servers of the test's own.

Two throwaway servers from Debian's binaries (the lab's bindir and unprivileged user, a temporary data
directory, a free loopback port): one with ``ssl = on`` and a certificate the lab's CA code issues for
localhost, expiring in 20 days; one with ``ssl = off``. The module's days to expiry equal what
``openssl s_client -starttls postgres`` + ``openssl x509 -enddate`` say; the server without SSL is a
``tls_reachable`` finding with state ``ssl_refused``; through the CLI the role takes such an endpoint.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from opsbook.lab import tlsca
from opsbook.lab.base import RunAs, port_open, wait_for
from opsbook.lab.postgres import INSTALL, find_bindir
from tests.helpers import REPO, closed_port, run_cli, run_module
from tests.integration.test_tls_certificate_drill import openssl_days, openssl_x509, s_client_endpoint

pytestmark = pytest.mark.slow
DAYS = 20  # below the seed's 30: a warning


class ThrowawayPostgres:
    """``initdb`` + ``pg_ctl start`` in ``directory`` on 127.0.0.1:``port``, as the lab's server user."""

    def __init__(self, directory: Path, port: int, settings: dict):
        self.dir, self.port, self.settings = directory, port, settings
        self.bindir = find_bindir()
        self.run_as = RunAs.for_server("postgres", INSTALL)
        self.data = directory / "data"

    def _run(self, *cmd: str):
        result = self.run_as.run([str(self.bindir / cmd[0]), *cmd[1:]], timeout=120)
        assert result.returncode == 0, f"{cmd[0]}: {result.stderr.strip() or result.stdout.strip()}"

    def start(self) -> None:
        self.data.mkdir(mode=0o700)
        self.run_as.own(self.dir, self.data)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")
        options = dict(self.settings, port=self.port, listen_addresses="127.0.0.1",
                       unix_socket_directories=str(self.dir), fsync="off")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w", "-t", "60",
                  "-o", " ".join(f"-c {k}={v}" for k, v in options.items()), "start")
        wait_for(lambda: port_open("127.0.0.1", self.port), 30, f"PostgreSQL on port {self.port}")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.run_as.run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                            timeout=60)


@pytest.fixture(scope="module")
def servers():
    """``{ssl, plain, ca_file}``: the two servers' ports and the CA of the SSL one's certificate."""
    # reachable by the server user when the tests run as root (pytest's tmp_path is root's alone)
    base = Path(tempfile.mkdtemp(prefix="opsbook-pgtls-", dir="/var/tmp"))
    os.chmod(base, 0o755)
    ca = tlsca.make_ca("pgtls test CA")
    start = tlsca.now() - tlsca.DAY
    key, cert = tlsca.issue(["localhost", "127.0.0.1"], start, start + (DAYS + 1) * tlsca.DAY, ca=ca)
    key_path, cert_path = tlsca.write_pair(base, "server", key, cert)
    _, ca_path = tlsca.write_pair(base, "ca", *ca)
    started = []
    try:
        for name, settings in (("ssl", {"ssl": "on", "ssl_cert_file": cert_path, "ssl_key_file": key_path}),
                               ("plain", {"ssl": "off"})):
            server = ThrowawayPostgres(base / name, closed_port(), settings)
            (base / name).mkdir()
            if name == "ssl":
                server.run_as.own(key_path)  # PostgreSQL wants its key 0600 and its own
            started.append(server)
            server.start()
        yield {"ssl": started[0].port, "plain": started[1].port, "ca_file": str(ca_path)}
    finally:
        for server in started:
            server.stop()
        shutil.rmtree(base, ignore_errors=True)


def endpoint(servers, which, **extra):
    return dict({"name": f"pg-{which}", "host": "localhost", "port": servers[which], "starttls": "postgres"}, **extra)


def test_ssl_server_days_equal_openssl_starttls_postgres(servers):
    result = run_module("tls_certificate", {"endpoints": [endpoint(servers, "ssl")], "ca_path": servers["ca_file"],
                                            "timeout": 5})
    assert not result.get("failed"), result
    findings = {f["check"]: f for f in result["findings"]}
    assert sorted(findings) == ["tls_chain", "tls_expiry", "tls_hostname", "tls_protocol"]
    assert [(c, f["status"]) for c, f in findings.items() if f["status"] != "ok"] == [("tls_expiry", "warning")]
    pem, output = s_client_endpoint(dict(endpoint(servers, "ssl"), server_name="localhost"), servers["ca_file"])
    assert findings["tls_expiry"]["value"] == pytest.approx(openssl_days(pem), abs=0.01)
    assert findings["tls_expiry"]["value"] == pytest.approx(DAYS, abs=0.05)
    [probe] = result["endpoints"]
    assert openssl_x509(pem, "-serial") == "serial=" + probe["certificate"]["serial"]
    assert "Verify return code: 0 (ok)" in output
    assert (findings["tls_hostname"]["state"], findings["tls_chain"]["state"]) == ("match", "valid")
    assert probe["protocol"] in output and probe["starttls"] == "postgres"


def test_ssl_server_against_the_system_store_is_untrusted(servers):
    result = run_module("tls_certificate", {"endpoints": [endpoint(servers, "ssl")], "timeout": 5})
    findings = {f["check"]: f for f in result["findings"]}
    assert (findings["tls_chain"]["status"], findings["tls_chain"]["state"]) == ("critical", "untrusted")
    assert findings["tls_expiry"]["value"] == pytest.approx(DAYS, abs=0.05)  # read all the same


def test_server_without_ssl_is_ssl_refused(servers):
    result = run_module("tls_certificate", {"endpoints": [endpoint(servers, "plain")], "timeout": 5})
    assert not result.get("failed"), result
    [finding] = result["findings"]
    assert (finding["check"], finding["status"], finding["state"], finding["target"]) == (
        "tls_reachable", "critical", "ssl_refused", "pg-plain")
    assert "answered N to the SSLRequest" in finding["message"]
    # openssl agrees there is no TLS here
    proc = subprocess.run(["openssl", "s_client", "-starttls", "postgres", "-connect", f"localhost:{servers['plain']}"],
                          input="", capture_output=True, text=True, timeout=20)
    assert proc.returncode != 0 and "BEGIN CERTIFICATE" not in proc.stdout


def test_postgres_endpoint_without_starttls_is_a_failed_handshake(servers):
    result = run_module("tls_certificate", {"endpoints": [endpoint(servers, "ssl", starttls="none")], "timeout": 3})
    [finding] = result["findings"]
    assert (finding["check"], finding["status"], finding["state"]) == ("tls_reachable", "critical", None)


def test_cli_role_takes_postgres_endpoints(servers):
    tls_vars = {"opsbook_tls": {"ca_path": servers["ca_file"],
                                "endpoints": [endpoint(servers, "ssl"), endpoint(servers, "plain")]}}
    proc = run_cli("run", "tls-certificate", "-i", str(REPO / "inventories" / "lab"), "--json", "-e", json.dumps(tls_vars))
    rep = json.loads(proc.stdout)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert (rep["outcome"], rep["status"]) == ("action_needed", "critical")
    bad = sorted((f["target"], f["check"], f["status"], f["state"]) for f in rep["findings"] if f["status"] != "ok")
    assert bad == [("pg-plain", "tls_reachable", "critical", "ssl_refused"), ("pg-ssl", "tls_expiry", "warning", None)]
