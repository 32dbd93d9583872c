#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: tls_certificate
short_description: Check TLS certificates of endpoints and files - expiry, host name, chain, protocol
version_added: "0.1.0"
description:
  - Connects to every endpoint (concurrently, bounded timeout) with SNI, after a STARTTLS dialogue for
    SMTP or PostgreSQL's SSLRequest when asked, completes a TLS handshake and reads the server's
    certificate; reads certificate files (PEM or DER) from disk. What the seed runbooks do with
    C(openssl s_client -connect H:443 -servername H | openssl x509 -noout -dates) (C(-starttls smtp),
    C(-starttls postgres)).
  - "Reports per target: C(tls_expiry) (days until C(notAfter), negative once expired, against O(warn_days)
    and O(crit_days), strictly below as the runbooks word it: C(< 30 days)), C(tls_hostname) (the expected
    name against the subjectAltName with the RFC 6125 rules as tightened by RFC 9525: a wildcard only as
    the whole left-most label), C(tls_chain) (the chain against O(ca_path), the system's CA bundle by
    default; a self-signed certificate is named so) and, for endpoints, C(tls_protocol) (the negotiated
    version against O(protocols), with the cipher)."
  - The chain check ignores validity dates (an expired certificate is the C(tls_expiry) finding, not also
    a chain failure).
  - An endpoint that cannot be reached, or whose handshake or STARTTLS dialogue fails, is one
    V(critical) C(tls_reachable) finding, not a task failure. A file that cannot be read likewise.
  - "A server that answers but refuses TLS - an SMTP server without STARTTLS, a PostgreSQL server that
    answers C(N) to the SSLRequest (C(ssl = off)) - is that C(tls_reachable) finding with state C(ssl_refused)."
  - Read-only.
options:
  endpoints:
    description:
      - Endpoints to connect to, each a C(host:port) string or a dictionary.
      - Dictionary keys C(host) (required), C(port) (default 443), C(name), C(server_name) (the SNI name,
        default C(host)), C(expected_name) (the name the certificate must be valid for, default
        C(server_name)), C(starttls) (V(smtp), V(postgres) or V(none)), C(ca_path) and C(timeout) override
        the module-level options of the same name for that endpoint.
    type: list
    elements: raw
    default: []
  files:
    description:
      - Certificate files on the managed host, each a path or a dictionary with C(path) (required),
        C(name), C(expected_name) (checked only when given) and C(ca_path).
      - A PEM file may hold the chain after the certificate (leaf first); the chain is walked to a
        certificate of the CA bundle, signatures checked.
    type: list
    elements: raw
    default: []
  starttls:
    description:
      - STARTTLS dialogue of every endpoint that does not set its own.
      - V(smtp) greets with EHLO and sends STARTTLS (RFC 3207).
      - V(postgres) sends PostgreSQL's 8-byte SSLRequest (length 8, code 80877103) and goes on to the
        handshake when the server answers C(S), as C(libpq) does with C(sslmode=require); SNI is sent as for
        other endpoints.
    type: str
    choices: [none, smtp, postgres]
    default: none
  ca_path:
    description: PEM file (or directory of PEM files) with the CA certificates to trust instead of the system store.
    type: path
  warn_days:
    description: Fewer days than this until expiry is a V(warning) (SparkOne seed, "SSL Certificate - Expiração em 30 dias").
    type: float
    default: 30
  crit_days:
    description: Fewer days than this until expiry is V(critical); an expired certificate always is.
    type: float
    default: 7
  protocols:
    description: Negotiated protocol versions that are fine; any other is V(critical) (RFC 8996 deprecates TLS 1.0 and 1.1).
    type: list
    elements: str
    default: [TLSv1.2, TLSv1.3]
  timeout:
    description: Timeout in seconds of every socket operation (connect, STARTTLS dialogue, handshake).
    type: float
    default: 5
  concurrency:
    description: Maximum number of endpoints checked at once (capped at 16).
    type: int
    default: 8
attributes:
  check_mode:
    support: full
    description: The module only connects and reads; it runs the same in check mode.
notes:
  - Supports check_mode.
  - The client offers every protocol version and cipher the local OpenSSL allows, so that an old server
    is seen (and reported) rather than refused.
requirements:
  - cryptography
seealso:
  - module: opsbook.runbooks.http_health
  - module: opsbook.runbooks.port_check
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Certificates of the public endpoints (the SparkOne and ML Bling seeds' openssl s_client checks)
  opsbook.runbooks.tls_certificate:
    endpoints:
      - app.ml-bling-sync.com:443
      - {host: 10.0.0.5, port: 443, server_name: api.ml-bling-sync.com, name: api}
      - {host: mail.example.com, port: 587, starttls: smtp}
      - {name: database, host: db.ml-bling-sync.com, port: 5432, starttls: postgres}
    warn_days: 30
    crit_days: 7
  register: tls

- name: A certificate file against the internal CA
  opsbook.runbooks.tls_certificate:
    files:
      - {path: /etc/traefik/certs/internal.pem, expected_name: api.internal}
    ca_path: /etc/ssl/internal-ca.pem
"""

RETURN = r"""
status:
  description: Worst status among the findings.
  returned: always
  type: str
  sample: warning
findings:
  description: Findings C({check, status, value, state, threshold, unit, message, target}); per target
    C(tls_expiry) (value days, unit C(d)), C(tls_hostname) (state C(match)/C(mismatch)), C(tls_chain)
    (state C(valid)/C(self_signed)/C(untrusted)), C(tls_protocol) for endpoints (state the version), or one
    C(tls_reachable) when the target could not be read (state C(ssl_refused) when the server refused TLS).
  returned: always
  type: list
  elements: dict
  sample:
    - check: tls_expiry
      status: warning
      value: 9.98
      state: null
      threshold: {warn: 30, crit: 7, direction: below, strict: true}
      unit: d
      message: the certificate of app expires in 9.98 days (2026-12-11T23:41:32Z), less than the warning threshold of 30 days
      target: app
endpoints:
  description: One entry per endpoint C({name, host, port, server_name, expected_name, starttls, reachable, error,
    error_state, protocol, cipher, chain, chain_detail, hostname_match, presented_names, certificate, status}); C(certificate) is
    C({subject, issuer, serial, not_before, not_after, days_left, san_dns, san_ip, self_signed, sha256_fingerprint}).
  returned: always
  type: list
  elements: dict
  sample: [{name: app, host: app.example.com, port: 443, protocol: TLSv1.3, chain: valid, status: ok,
            certificate: {subject: "CN=app.example.com", not_after: "2027-01-01T00:00:00Z", days_left: 41.5}}]
files:
  description: One entry per file C({name, path, expected_name, error, chain, chain_detail, intermediates, certificate, status}).
  returned: always
  type: list
  elements: dict
  sample: []
target:
  description: What was checked.
  returned: always
  type: str
  sample: 2 TLS endpoints, 1 certificate files
duration:
  description: Seconds the module took.
  returned: always
  type: float
  sample: 0.05
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_diagnostic
from ansible_collections.opsbook.runbooks.plugins.module_utils.net import tls


def main():
    argument_spec = dict(
        endpoints=dict(type="list", elements="raw", default=[]),
        files=dict(type="list", elements="raw", default=[]),
        starttls=dict(type="str", choices=["none", "smtp", "postgres"], default="none"),
        ca_path=dict(type="path"),
        warn_days=dict(type="float", default=30),
        crit_days=dict(type="float", default=7),
        protocols=dict(type="list", elements="str", default=["TLSv1.2", "TLSv1.3"]),
        timeout=dict(type="float", default=5),
        concurrency=dict(type="int", default=8),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    run_diagnostic(module, "tls_reachable", "%d TLS endpoints, %d certificate files" % (
        len(params["endpoints"]), len(params["files"])), lambda: tls.tls_certificate(params))


if __name__ == "__main__":
    main()
