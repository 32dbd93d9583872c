# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS certificates of endpoints (``host:port``, SNI, SMTP STARTTLS) and of files on disk (tls_certificate).

What an SRE does by hand with ``openssl s_client -connect H:P -servername N | openssl x509 -noout
-dates -subject -issuer -ext subjectAltName`` and ``openssl verify``, as findings, one per check and
target: ``tls_expiry`` (days left, below warn/crit), ``tls_hostname`` (RFC 6125/9525 matching of the
expected name against the subjectAltName), ``tls_chain`` (against a CA bundle, the system's by
default; self-signed named as such) and ``tls_protocol`` (endpoints only). An endpoint that cannot be
reached or does not complete a handshake is one ``tls_reachable`` finding, never an exception.

Endpoints are read with the stdlib ``ssl`` (the chain is verified by OpenSSL in the handshake, with
the validity dates left to ``tls_expiry``: one problem, one finding); certificates are parsed and file
chains walked with ``cryptography``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import ipaddress
import os
import socket
import ssl
import warnings

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import ExtensionOID, NameOID

    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - exercised by ansible-test import sanity
    x509 = hashes = Encoding = ExtensionOID = NameOID = None
    HAS_CRYPTOGRAPHY = False

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.declarative_checks import strict_status
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput, MissingDependency
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    BELOW,
    CRITICAL,
    OK,
    make_finding,
    overall,
)
from ansible_collections.opsbook.runbooks.plugins.module_utils.net.probes import _pool_map

STARTTLS = ("smtp",)
DEFAULT_PROTOCOLS = ("TLSv1.2", "TLSv1.3")  # RFC 8996 deprecates TLS 1.0 and 1.1
X509_V_FLAG_NO_CHECK_TIME = 0x200000  # the validity dates are tls_expiry's verdict, not tls_chain's
MAX_LINE = 4096


class TlsProtocolError(Exception):
    """The server did not follow the STARTTLS dialogue (an answer, not a network failure)."""


# ------------------------------------------------------------------------ input


def _split_host_port(text, index):
    host, sep, port = str(text).rpartition(":")
    if not sep or not host:
        raise InvalidInput("endpoints[%d]: expected host:port, got %r" % (index, text))
    return host.strip("[]"), port


def normalize_endpoints(endpoints, defaults):
    """Validate ``endpoints`` (``host:port`` strings or dicts) and fill in the module-level defaults."""
    result = []
    for index, item in enumerate(endpoints or []):
        if isinstance(item, str):
            host, port = _split_host_port(item, index)
            item = {"host": host, "port": port}
        if not isinstance(item, dict) or not item.get("host"):
            raise InvalidInput("endpoints[%d]: host is required (a dict with host and port, or host:port)" % index)
        try:
            port = int(item.get("port") or 443)
        except (TypeError, ValueError):
            raise InvalidInput("endpoints[%d]: port must be an integer, got %r" % (index, item.get("port")))
        if not 0 < port < 65536:
            raise InvalidInput("endpoints[%d]: port must be between 1 and 65535, got %d" % (index, port))
        merged = dict(defaults)
        merged.update(dict((k, v) for k, v in item.items() if v is not None and v != ""))
        if merged.get("starttls") not in (None, "none") + STARTTLS:
            raise InvalidInput("endpoints[%d]: starttls must be one of none, %s, got %r"
                               % (index, ", ".join(STARTTLS), merged.get("starttls")))
        if merged.get("starttls") == "none":
            merged["starttls"] = None
        try:
            merged["timeout"] = float(merged.get("timeout"))
        except (TypeError, ValueError):
            raise InvalidInput("endpoints[%d]: timeout must be a number, got %r" % (index, merged.get("timeout")))
        if merged["timeout"] <= 0:
            raise InvalidInput("endpoints[%d]: timeout must be positive" % index)
        merged.update(host=str(item["host"]), port=port)
        merged["server_name"] = str(merged.get("server_name") or merged["host"])
        merged["expected_name"] = str(merged.get("expected_name") or merged["server_name"])
        merged["name"] = str(item.get("name") or "%s:%d" % (merged["host"], port))
        result.append(merged)
    return result


def normalize_files(files, defaults):
    """Validate ``files`` (paths or dicts with ``path``)."""
    result = []
    for index, item in enumerate(files or []):
        if isinstance(item, str):
            item = {"path": item}
        if not isinstance(item, dict) or not item.get("path"):
            raise InvalidInput("files[%d]: path is required" % index)
        merged = dict(defaults)
        merged.update(dict((k, v) for k, v in item.items() if v is not None and v != ""))
        merged["path"] = os.path.expanduser(str(item["path"]))
        merged["name"] = str(item.get("name") or merged["path"])
        merged["expected_name"] = item.get("expected_name") or None
        result.append(merged)
    return result


def check_protocols(protocols):
    known = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
    bad = [p for p in protocols if p not in known]
    if bad or not protocols:
        raise InvalidInput("protocols must name some of %s, got %r" % (", ".join(known), list(protocols)))
    return list(protocols)


# ------------------------------------------------------------------ certificates


def _utc(cert, attr):
    value = getattr(cert, attr + "_utc", None)
    if value is None:  # cryptography < 42
        value = getattr(cert, attr).replace(tzinfo=datetime.timezone.utc)
    return value


def _san(cert):
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        return None
    return {"dns": ext.get_values_for_type(x509.DNSName),
            "ip": [str(ip) for ip in ext.get_values_for_type(x509.IPAddress)]}


def _common_names(cert):
    return [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]


def issued_by(cert, issuer):
    """``cert``'s issuer is ``issuer``'s subject and ``issuer``'s key signed it."""
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except Exception:  # InvalidSignature; ValueError/TypeError for a key of another type
        return False
    return True


def _hex_bytes(number):
    """Upper-case hex in whole bytes, as ``openssl x509 -serial`` prints a serial (``07B9...``, not ``7B9...``)."""
    text = "%X" % number
    return text.rjust(len(text) + len(text) % 2, "0")


def cert_info(cert, now):
    """What the report says of a certificate (and ``days_left`` from ``now``, an aware datetime)."""
    not_after = _utc(cert, "not_valid_after")
    san = _san(cert)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": _hex_bytes(cert.serial_number),
        "not_before": _utc(cert, "not_valid_before").strftime("%Y-%m-%dT%H:%M:%SZ"),
        "not_after": not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "days_left": round((not_after - now).total_seconds() / 86400.0, 2),
        "san_dns": san["dns"] if san else [],
        "san_ip": san["ip"] if san else [],
        "self_signed": issued_by(cert, cert),
        "sha256_fingerprint": hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest().upper(),
    }


# ------------------------------------------------------------- host name (RFC 6125)


def _ip(text):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _dns_match(pattern, name):
    """One dNSName against a host name: RFC 6125 §6.4 as tightened by RFC 9525 §6.3.

    Case-insensitive, a trailing dot ignored; a wildcard only as the whole left-most label of a
    pattern with at least three labels (``*.example.com``), matching exactly one non-empty label;
    no partial wildcards (``f*.example.com``), none in later labels, none over an IDNA A-label.
    """
    pattern = pattern.lower().rstrip(".")
    name = name.lower().rstrip(".")
    if not pattern or not name:
        return False
    if "*" not in pattern:
        return pattern == name
    labels = pattern.split(".")
    if labels[0] != "*" or "*" in ".".join(labels[1:]) or len(labels) < 3:
        return False
    name_labels = name.split(".")
    if len(name_labels) != len(labels) or not name_labels[0] or name_labels[0].startswith("xn--"):
        return False
    return name_labels[1:] == labels[1:]


def match_hostname(cert, name):
    """``(matched, presented)``: does ``cert`` name ``name``, and which identifiers it presents.

    An IP address matches only iPAddress entries; a DNS name only dNSName entries; the subject's
    CN is consulted only when the certificate has no subjectAltName extension (RFC 6125 §6.4.4).
    """
    san = _san(cert)
    address = _ip(name)
    if san is None:
        presented = ["CN=%s" % cn for cn in _common_names(cert)]
        if address is not None:
            return False, presented
        return any(_dns_match(cn, name) for cn in _common_names(cert)), presented
    presented = ["DNS:%s" % d for d in san["dns"]] + ["IP:%s" % i for i in san["ip"]]
    if address is not None:
        return any(_ip(i) == address for i in san["ip"]), presented
    return any(_dns_match(d, name) for d in san["dns"]), presented


# ------------------------------------------------------------------ trust / chain


def _ca_source(ca_path):
    if ca_path:
        return ca_path
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and os.path.isfile(candidate):
            return candidate
    return paths.capath or paths.openssl_capath


def load_trust(ca_path):
    """The certificates of a CA bundle (a PEM file, or a directory of them); InvalidInput when unreadable."""
    source = _ca_source(ca_path)
    names = [source]
    if source and os.path.isdir(source):
        names = [os.path.join(source, n) for n in sorted(os.listdir(source)) if n.endswith((".pem", ".crt"))]
    certs = []
    for path in names:
        try:
            with open(path, "rb") as handle, warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a system bundle may hold a root with a non-positive serial
                certs.extend(x509.load_pem_x509_certificates(handle.read()))
        except (IOError, OSError, ValueError) as exc:
            if ca_path:
                raise InvalidInput("ca_path: cannot load %r: %s" % (path, exc))
    if ca_path and not certs:
        raise InvalidInput("ca_path: %r holds no PEM certificate" % ca_path)
    return source, certs


def _may_issue(ca, below):
    """``ca`` is a CA certificate whose path length allows ``below`` intermediates under it."""
    try:
        constraints = ca.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value
    except x509.ExtensionNotFound:
        return False
    return constraints.ca and (constraints.path_length is None or constraints.path_length >= below)


def verify_chain(leaf, intermediates, trusted, max_depth=10):
    """``(state, detail)``: walk issuers from ``leaf`` through ``intermediates`` to a ``trusted`` certificate.

    state ``valid``, ``self_signed`` (the leaf is its own issuer and not trusted) or ``untrusted``.
    Signatures, CA flags and path lengths are checked, validity dates are not (that is ``tls_expiry``).
    """
    fingerprints = set(c.fingerprint(hashes.SHA256()) for c in trusted)
    current = leaf
    for depth in range(max_depth):
        if current.fingerprint(hashes.SHA256()) in fingerprints:
            return "valid", "trusted: %s" % current.subject.rfc4514_string()
        for anchor in trusted:
            if issued_by(current, anchor):
                if not _may_issue(anchor, depth):
                    return "untrusted", "the trusted %s may not issue this chain (basic constraints)" % (
                        anchor.subject.rfc4514_string())
                return "valid", "issued by the trusted %s" % anchor.subject.rfc4514_string()
        if issued_by(current, current):
            if current is leaf:
                return "self_signed", "self-signed certificate"
            return "untrusted", "self-signed certificate in certificate chain (%s)" % current.subject.rfc4514_string()
        parents = [c for c in intermediates if c is not current and issued_by(current, c) and _may_issue(c, depth)]
        if not parents:
            return "untrusted", "unable to get issuer certificate %s" % current.issuer.rfc4514_string()
        current = parents[0]
    return "untrusted", "certificate chain longer than %d" % max_depth


# ----------------------------------------------------------------- the handshake


def _read_reply(sock, deadline_name):
    """One SMTP reply (all its lines); ``(code, lines)``."""
    data = b""
    lines = []
    while True:
        while b"\r\n" not in data:
            chunk = sock.recv(1024)
            if not chunk:
                raise TlsProtocolError("%s closed the connection during the SMTP dialogue" % deadline_name)
            data += chunk
            if len(data) > MAX_LINE * 8:
                raise TlsProtocolError("%s sent an over-long SMTP reply" % deadline_name)
        line, data = data.split(b"\r\n", 1)
        text = line.decode("ascii", "replace")
        lines.append(text)
        if len(text) < 4 or text[3] != "-":
            try:
                return int(text[:3]), lines
            except ValueError:
                raise TlsProtocolError("%s is not an SMTP server (it said %r)" % (deadline_name, text[:80]))


def _starttls_smtp(sock, name):
    code, lines = _read_reply(sock, name)
    if code != 220:
        raise TlsProtocolError("%s greeted with %r, not 220" % (name, lines[0][:80]))
    sock.sendall(b"EHLO opsbook.invalid\r\n")
    code, lines = _read_reply(sock, name)
    if code != 250:
        raise TlsProtocolError("%s refused EHLO: %r" % (name, lines[0][:80]))
    if not any(line[4:].strip().upper().startswith("STARTTLS") for line in lines):
        raise TlsProtocolError("%s does not offer STARTTLS" % name)
    sock.sendall(b"STARTTLS\r\n")
    code, lines = _read_reply(sock, name)
    if code != 220:
        raise TlsProtocolError("%s refused STARTTLS: %r" % (name, lines[0][:80]))


def _context(target, verify):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False  # tls_hostname matches the name itself, and reports what was presented
    ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED  # so an old server is seen, and reported
    try:
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    except ssl.SSLError:  # pragma: no cover - an OpenSSL without security levels
        pass
    if not verify:
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.verify_flags |= X509_V_FLAG_NO_CHECK_TIME
    source = _ca_source(target.get("ca_path"))
    try:
        if source and os.path.isdir(source):
            ctx.load_verify_locations(capath=source)
        else:
            ctx.load_verify_locations(cafile=source)
    except (IOError, OSError, ssl.SSLError) as exc:
        raise InvalidInput("ca_path: cannot load %r: %s" % (source, exc))
    return ctx


def handshake(target, verify):
    """Connect (STARTTLS when asked), complete a TLS handshake; ``{der, protocol, cipher}``.

    Raises ``ssl.SSLCertVerificationError`` when ``verify`` and the chain is not trusted, other
    ``ssl.SSLError``/``TlsProtocolError`` for a failed handshake or dialogue, ``OSError`` when the
    endpoint cannot be reached within its timeout.
    """
    ctx = _context(target, verify)
    sock = socket.create_connection((target["host"], target["port"]), timeout=target["timeout"])
    try:
        sock.settimeout(target["timeout"])
        if target.get("starttls") == "smtp":
            _starttls_smtp(sock, target["name"])
        server_name = target["server_name"] if _ip(target["server_name"]) is None else None
        tls = ctx.wrap_socket(sock, server_hostname=server_name)
        try:
            cipher = tls.cipher()
            return {"der": tls.getpeercert(binary_form=True), "protocol": tls.version(),
                    "cipher": cipher[0] if cipher else None}
        finally:
            tls.close()
    finally:
        sock.close()


def probe_endpoint(target, now=None):
    """One endpoint's certificate and handshake; never raises for the network or the peer."""
    result = {"name": target["name"], "host": target["host"], "port": target["port"],
              "server_name": target["server_name"], "expected_name": target["expected_name"],
              "starttls": target.get("starttls"), "reachable": False, "error": None, "protocol": None,
              "cipher": None, "chain": None, "chain_detail": None, "certificate": None}
    chain, detail = "valid", "verified against %s" % (_ca_source(target.get("ca_path")) or "the system store")
    try:
        try:
            shake = handshake(target, verify=True)
        except ssl.SSLCertVerificationError as exc:
            chain, detail = _verify_state(exc), exc.verify_message or str(exc)
            shake = handshake(target, verify=False)
    except TlsProtocolError as exc:
        result["error"] = str(exc)
        return result
    except ssl.SSLError as exc:
        result["error"] = "TLS handshake failed: %s" % (exc.reason or exc)
        return result
    except (OSError, socket.timeout) as exc:
        result["error"] = str(exc) or exc.__class__.__name__
        return result
    cert = x509.load_der_x509_certificate(shake["der"])
    info = cert_info(cert, now or datetime.datetime.now(datetime.timezone.utc))
    if chain != "valid" and info["self_signed"]:
        chain, detail = "self_signed", "self-signed certificate"
    result.update(reachable=True, protocol=shake["protocol"], cipher=shake["cipher"], chain=chain,
                  chain_detail=detail, certificate=info)
    result["hostname_match"], result["presented_names"] = match_hostname(cert, target["expected_name"])
    return result


def _verify_state(exc):
    # OpenSSL's X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT (18)
    return "self_signed" if getattr(exc, "verify_code", None) == 18 else "untrusted"


def probe_file(target, now=None):
    """A certificate file (PEM, leaf first, optional intermediates after it; or DER)."""
    result = {"name": target["name"], "path": target["path"], "expected_name": target["expected_name"],
              "error": None, "chain": None, "chain_detail": None, "certificate": None}
    try:
        with open(target["path"], "rb") as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        result["error"] = "cannot read %s: %s" % (target["path"], exc.strerror or exc)
        return result
    try:
        certs = x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data else [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        result["error"] = "%s holds no certificate: %s" % (target["path"], exc)
        return result
    source, trusted = load_trust(target.get("ca_path"))
    leaf = certs[0]
    chain, detail = verify_chain(leaf, certs[1:], trusted)
    if chain == "valid":
        detail = "%s (%s)" % (detail, source)
    result.update(chain=chain, chain_detail=detail, certificate=cert_info(leaf, now or datetime.datetime.now(datetime.timezone.utc)),
                  intermediates=len(certs) - 1)
    if target["expected_name"]:
        result["hostname_match"], result["presented_names"] = match_hostname(leaf, target["expected_name"])
    return result


# --------------------------------------------------------------------- findings


def _days(days):
    return ("%.2f" % days).rstrip("0").rstrip(".")


def expiry_finding(name, info, warn, crit):
    days = info["days_left"]
    status = strict_status(days, warn, crit, BELOW)
    if days < 0:
        message = "the certificate of %s expired %s days ago (%s)" % (name, _days(-days), info["not_after"])
    else:
        message = "the certificate of %s expires in %s days (%s)" % (name, _days(days), info["not_after"])
    if status != OK:
        limit = crit if status == CRITICAL else warn
        message += ", less than the %s threshold of %s days" % (status, _days(float(limit)))
    return make_finding("tls_expiry", status, message, value=days, unit="d", target=name,
                        threshold={"warn": warn, "crit": crit, "direction": BELOW, "strict": True})


def hostname_finding(name, expected, matched, presented):
    shown = ", ".join(presented) or "no names"
    if matched:
        return make_finding("tls_hostname", OK, "the certificate of %s is valid for %s (%s)" % (name, expected, shown),
                            target=name, state="match", threshold={"expected": expected})
    return make_finding("tls_hostname", CRITICAL, "the certificate of %s is not valid for %s: it names %s" % (
        name, expected, shown), target=name, state="mismatch", threshold={"expected": expected})


def chain_finding(name, chain, detail, issuer):
    if chain == "valid":
        return make_finding("tls_chain", OK, "the certificate of %s chains to a trusted CA: %s" % (name, detail),
                            target=name, state=chain)
    what = "is self-signed" if chain == "self_signed" else "is not trusted"
    return make_finding("tls_chain", CRITICAL, "the certificate of %s %s (issuer %s): %s" % (name, what, issuer, detail),
                        target=name, state=chain)


def protocol_finding(name, protocol, cipher, allowed):
    message = "%s negotiated %s with %s" % (name, protocol, cipher)
    if protocol in allowed:
        return make_finding("tls_protocol", OK, message, target=name, state=protocol, threshold={"expected": list(allowed)})
    return make_finding("tls_protocol", CRITICAL, "%s, expected %s" % (message, " or ".join(allowed)), target=name,
                        state=protocol, threshold={"expected": list(allowed)})


def target_findings(result, params, endpoint=True):
    name = result["name"]
    if result["error"]:
        return [make_finding("tls_reachable", CRITICAL, "%s: %s" % (name, result["error"]), target=name)]
    info = result["certificate"]
    findings = [expiry_finding(name, info, params["warn_days"], params["crit_days"])]
    if "hostname_match" in result:
        findings.append(hostname_finding(name, result["expected_name"], result["hostname_match"], result["presented_names"]))
    findings.append(chain_finding(name, result["chain"], result["chain_detail"], info["issuer"]))
    if endpoint:
        findings.append(protocol_finding(name, result["protocol"], result["cipher"], params["protocols"]))
    return findings


def tls_certificate(params):
    """The module's work: every endpoint (concurrently) and file; ``{endpoints, files, findings, status}``."""
    if not HAS_CRYPTOGRAPHY:
        raise MissingDependency("cryptography")
    if not params.get("endpoints") and not params.get("files"):
        raise InvalidInput("endpoints or files: name at least one endpoint (host:port) or certificate file")
    if params["warn_days"] < params["crit_days"]:
        raise InvalidInput("warn_days (%s) must not be below crit_days (%s)" % (params["warn_days"], params["crit_days"]))
    params = dict(params, protocols=check_protocols(params["protocols"]))
    defaults = dict(timeout=params["timeout"], ca_path=params["ca_path"], starttls=params.get("starttls"))
    endpoints = normalize_endpoints(params.get("endpoints"), defaults)
    files = normalize_files(params.get("files"), dict(ca_path=params["ca_path"]))
    for target in endpoints:
        _context(target, verify=True)  # a bad ca_path is bad input, reported before any connection
    for target in files:
        load_trust(target.get("ca_path"))
    findings, results = [], {"endpoints": [], "files": []}
    for result in _pool_map(probe_endpoint, endpoints, params["concurrency"]) if endpoints else []:
        own = target_findings(result, params)
        result["status"] = overall(own)
        findings.extend(own)
        results["endpoints"].append(result)
    for result in (probe_file(t) for t in files):
        own = target_findings(result, params, endpoint=False)
        result["status"] = overall(own)
        findings.extend(own)
        results["files"].append(result)
    results.update(findings=findings, status=overall(findings))
    return results
