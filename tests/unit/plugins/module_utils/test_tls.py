"""net/tls.py without a network: host name matching and chain walking judged by openssl itself
(``openssl x509 -checkhost``, ``openssl verify``), the expiry verdict's strict thresholds, input errors."""

from __future__ import annotations

import datetime
import socket
import subprocess
import threading

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.net import tls
from opsbook.lab import tlsca

NOW = tlsca.now()
YEAR = (NOW - tlsca.DAY, NOW + 365 * tlsca.DAY)


def openssl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=30)


@pytest.fixture(scope="module")
def ca():
    return tlsca.make_ca("unit CA")


def pem(tmp_path, name, *certs):
    path = tmp_path / f"{name}.pem"
    path.write_text("".join(tlsca.cert_pem(c) for c in certs))
    return str(path)


# (SAN names, or None for a certificate without subjectAltName whose CN is the first name), host name, match?
HOSTNAMES = [
    (["app.example.com"], "app.example.com", True),
    (["app.example.com"], "APP.Example.com", True),
    (["app.example.com"], "api.example.com", False),
    (["*.example.com"], "app.example.com", True),
    (["*.example.com"], "example.com", False),  # the wildcard is exactly one label
    (["*.example.com"], "a.b.example.com", False),
    (["*.com"], "example.com", False),  # not over a public suffix-like two-label pattern
    (["app.*.com"], "app.example.com", False),  # only the left-most label
    (["localhost", "127.0.0.1"], "127.0.0.1", True),
    (["localhost", "127.0.0.1"], "127.0.0.2", False),
    (["127.0.0.1"], "localhost", False),  # an IP entry is no DNS name
    (["::1"], "::1", True),
    (["wrong-host.opsbook.invalid"], "localhost", False),
    (None, "legacy.example.com", True),  # no SAN: the CN (RFC 6125 6.4.4)
]


@pytest.mark.parametrize("names, host, expected", HOSTNAMES)
def test_match_hostname_agrees_with_openssl_checkhost(tmp_path, ca, names, host, expected):
    key, cert = tlsca.issue(names or [host], *YEAR, ca=ca, san=names is not None)
    matched, presented = tls.match_hostname(cert, host)
    assert matched is expected
    assert presented
    flag = "-checkip" if tls._ip(host) else "-checkhost"
    proc = openssl("x509", "-noout", "-in", pem(tmp_path, "leaf", cert), flag, host)
    assert proc.returncode == 0, proc.stderr
    assert ("does match" in proc.stdout) is expected, proc.stdout


@pytest.mark.parametrize("pattern, host, expected", [
    # openssl's defaults accept partial wildcards (X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS is off); RFC 9525 6.3
    # and the browsers refuse them, and so do we
    ("f*.example.com", "foo.example.com", False),
    # an absolute name: the trailing dot is not part of the name (curl and browsers strip it; openssl does not)
    ("app.example.com", "app.example.com.", True),
])
def test_where_we_differ_from_openssl_defaults_on_purpose(tmp_path, ca, pattern, host, expected):
    _key, cert = tlsca.issue([pattern], *YEAR, ca=ca)
    assert tls.match_hostname(cert, host)[0] is expected
    proc = openssl("x509", "-noout", "-in", pem(tmp_path, "leaf", cert), "-checkhost", host)
    assert ("does match" in proc.stdout) is not expected, proc.stdout


def test_no_wildcard_over_an_idna_label(ca):
    _key, cert = tlsca.issue(["*.example.com"], *YEAR, ca=ca)
    assert tls.match_hostname(cert, "xn--bcher-kva.example.com")[0] is False
    assert tls.match_hostname(cert, "bucher.example.com")[0] is True


def _verify(tmp_path, ca_cert, leaf, untrusted=()):
    args = ["verify", "-no_check_time", "-CAfile", pem(tmp_path, "ca", ca_cert)]
    if untrusted:
        args += ["-untrusted", pem(tmp_path, "untrusted", *untrusted)]
    return openssl(*args, pem(tmp_path, "subject", leaf)).returncode == 0


def test_verify_chain_agrees_with_openssl_verify(tmp_path):
    root = tlsca.make_ca("unit root", path_length=None)
    inter = tlsca.make_ca("unit intermediate", issuer=root)
    _key, leaf = tlsca.issue(["app.example.com"], *YEAR, ca=inter)
    _key, own = tlsca.issue(["app.example.com"], *YEAR)
    _key, foreign = tlsca.issue(["app.example.com"], *YEAR, ca=tlsca.make_ca("other CA"))
    _key, expired = tlsca.issue(["app.example.com"], NOW - 30 * tlsca.DAY, NOW - tlsca.DAY, ca=root)
    strict_root = tlsca.make_ca("root with path length 0")  # may sign leaves only
    strict_inter = tlsca.make_ca("intermediate under it", issuer=strict_root)
    _key, too_deep = tlsca.issue(["app.example.com"], *YEAR, ca=strict_inter)
    plain = tlsca.issue(["issuer.example.com"], *YEAR, ca=root)  # a server certificate, no CA
    _key, by_plain = tlsca.issue(["app.example.com"], *YEAR, ca=plain)
    cases = [
        (root, leaf, [inter[1]], "valid"),
        (root, leaf, [], "untrusted"),  # the intermediate is missing
        (root, own, [], "self_signed"),
        (root, foreign, [], "untrusted"),
        (root, expired, [], "valid"),  # dates are tls_expiry's business
        (strict_root, too_deep, [strict_inter[1]], "untrusted"),  # the root's pathlen:0
        (root, by_plain, [plain[1]], "untrusted"),  # CA:FALSE cannot issue
    ]
    for anchor, cert, chain, state in cases:
        got, detail = tls.verify_chain(cert, chain, [anchor[1]])
        assert got == state, detail
        assert _verify(tmp_path, anchor[1], cert, chain) is (state == "valid"), (state, detail)



@pytest.mark.parametrize("days, status", [(365, "ok"), (30, "ok"), (29.99, "warning"), (7, "warning"),
                                          (6.99, "critical"), (0, "critical"), (-2.5, "critical")])
def test_expiry_is_strictly_below_the_seed_thresholds(days, status):
    info = {"days_left": days, "not_after": "2027-01-01T00:00:00Z"}
    finding = tls.expiry_finding("app", info, 30, 7)
    assert finding["status"] == status
    assert finding["value"] == days and finding["unit"] == "d"
    assert finding["threshold"] == {"warn": 30, "crit": 7, "direction": "below", "strict": True}
    assert ("expired" in finding["message"]) is (days < 0)


def test_cert_info_days_and_self_signed(ca):
    _key, cert = tlsca.issue(["a.example.com"], NOW - tlsca.DAY, NOW + 10 * tlsca.DAY, ca=ca)
    info = tls.cert_info(cert, NOW)
    assert info["days_left"] == 10.0
    assert info["san_dns"] == ["a.example.com"] and not info["self_signed"]
    assert info["not_after"] == (NOW + 10 * tlsca.DAY).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert tls.cert_info(tlsca.issue(["a"], *YEAR)[1], NOW)["self_signed"]
    assert tls.cert_info(ca[1], NOW + datetime.timedelta(hours=12))["self_signed"]


@pytest.mark.parametrize("endpoints, message", [
    (["no-port"], "endpoints[0]: expected host:port"),
    ([{"port": 443}], "endpoints[0]: host is required"),
    ([{"host": "a", "port": "x"}], "endpoints[0]: port must be an integer"),
    ([{"host": "a", "port": 70000}], "endpoints[0]: port must be between 1 and 65535"),
    ([{"host": "a", "starttls": "imap"}], "endpoints[0]: starttls must be one of none, smtp"),
    ([{"host": "a", "timeout": 0}], "endpoints[0]: timeout must be positive"),
])
def test_bad_endpoints_name_the_option(endpoints, message):
    with pytest.raises(InvalidInput, match=message.replace("[", r"\[").replace("]", r"\]")):
        tls.normalize_endpoints(endpoints, {"timeout": 5})


def test_endpoint_defaults():
    [a, b] = tls.normalize_endpoints(["app.example.com:8443", {"host": "10.0.0.5", "server_name": "api.example.com",
                                                                "starttls": "none"}], {"timeout": 5, "starttls": "smtp"})
    assert (a["host"], a["port"], a["server_name"], a["expected_name"], a["name"], a["starttls"]) == (
        "app.example.com", 8443, "app.example.com", "app.example.com", "app.example.com:8443", "smtp")
    assert (b["port"], b["server_name"], b["expected_name"], b["starttls"]) == (443, "api.example.com", "api.example.com", None)


def test_module_level_errors():
    base = dict(endpoints=[], files=[], ca_path=None, warn_days=30, crit_days=7, protocols=["TLSv1.2"], timeout=1,
                concurrency=1, starttls="none")
    with pytest.raises(InvalidInput, match="endpoints or files"):
        tls.tls_certificate(base)
    with pytest.raises(InvalidInput, match="warn_days"):
        tls.tls_certificate(dict(base, files=["/x"], warn_days=5))
    with pytest.raises(InvalidInput, match="protocols"):
        tls.tls_certificate(dict(base, files=["/x"], protocols=["TLSv9"]))
    with pytest.raises(InvalidInput, match="ca_path"):
        tls.tls_certificate(dict(base, files=["/x"], ca_path="/nonexistent/ca.pem"))


def test_unreadable_file_is_a_finding(tmp_path):
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    result = tls.tls_certificate(dict(endpoints=[], files=[str(tmp_path / "missing.pem"), str(garbage)], ca_path=None,
                                      warn_days=30, crit_days=7, protocols=["TLSv1.2"], timeout=1, concurrency=1))
    assert [(f["check"], f["status"]) for f in result["findings"]] == [("tls_reachable", "critical")] * 2
    assert "cannot read" in result["findings"][0]["message"]
    assert "holds no certificate" in result["findings"][1]["message"]


@pytest.mark.parametrize("number, text", [(0x7B94, "7B94"), (0x7B945, "07B945"), (1, "01"), (0, "00")])
def test_serial_in_whole_bytes_as_openssl_prints_it(number, text):
    assert tls._hex_bytes(number) == text


# --------------------------------------------------------------- PostgreSQL SSLRequest


def test_ssl_request_framing_is_what_openssl_sends():
    """Int32 length 8, Int32 80877103 (1234 << 16 | 5679), big-endian: the bytes ``openssl s_client -starttls postgres`` sends."""
    assert tls.PG_SSL_REQUEST == b"\x00\x00\x00\x08\x04\xd2\x16\x2f"
    assert 80877103 == (1234 << 16) | 5679
    received = []
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(20)

        def answer_no():
            conn, _ = server.accept()
            with conn:
                conn.settimeout(20)
                data = b""
                while len(data) < 8:
                    chunk = conn.recv(8 - len(data))
                    if not chunk:
                        break
                    data += chunk
                received.append(data)
                conn.sendall(b"N")

        thread = threading.Thread(target=answer_no)
        thread.start()
        proc = openssl("s_client", "-starttls", "postgres", "-connect", "127.0.0.1:%d" % server.getsockname()[1])
        thread.join(20)
    assert received == [tls.PG_SSL_REQUEST], proc.stdout + proc.stderr
    assert proc.returncode != 0  # openssl gives up on the N too


@pytest.mark.parametrize("answer, state, message", [
    (b"N", "ssl_refused", "refuses SSL: the PostgreSQL server answered N"),
    (b"", None, "closed the connection after the PostgreSQL SSLRequest"),
    (b"E", None, "is not a PostgreSQL server accepting SSL (it answered b'E'"),
    (b"H", None, "it answered b'H'"),  # an HTTP server's first byte
])
def test_ssl_request_answers_other_than_s(answer, state, message):
    with pytest.raises(tls.TlsProtocolError) as info:
        tls.pg_ssl_answer(answer, "db")
    assert info.value.state == state
    assert str(info.value).startswith("db ") and message in str(info.value)


def test_ssl_request_reads_exactly_the_answer_byte():
    """After an S, the rest of what the server sent stays in the socket for the TLS handshake (CVE-2021-23222)."""
    client, server = socket.socketpair()
    with client, server:
        client.settimeout(5)
        server.sendall(b"Sxyz")
        tls._starttls_postgres(client, "db")
        assert server.recv(8) == tls.PG_SSL_REQUEST
        assert client.recv(8) == b"xyz"


def test_ssl_refused_is_a_reachable_finding_with_its_state():
    client, server = socket.socketpair()
    with client, server:
        server.sendall(b"N")
        with pytest.raises(tls.TlsProtocolError) as info:
            tls._starttls_postgres(client, "db")
    result = {"name": "db", "error": str(info.value), "error_state": info.value.state}
    [finding] = tls.target_findings(result, {"warn_days": 30, "crit_days": 7, "protocols": ["TLSv1.2"]})
    assert (finding["check"], finding["status"], finding["state"], finding["target"]) == (
        "tls_reachable", "critical", "ssl_refused", "db")
    assert "answered N to the SSLRequest" in finding["message"]


def test_postgres_is_a_starttls_choice():
    [target] = tls.normalize_endpoints([{"host": "db.example.com", "port": 5432, "starttls": "postgres"}], {"timeout": 5})
    assert (target["starttls"], target["server_name"], target["port"]) == ("postgres", "db.example.com", 5432)
