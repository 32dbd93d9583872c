# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The security headers of HTTP responses (security_headers), SparkOne's weekly check::

    curl -I https://yourdomain.com | grep -E "(X-Frame-Options|X-Content-Type-Options|Strict-Transport-Security)"

Each URL is requested once through :mod:`probes` (same client, timeout, CA and redirect rules as
http_health) and each required header judged:

- ``hsts`` - ``Strict-Transport-Security`` with ``max-age`` of at least ``hsts_min_max_age`` seconds.
  Over plain HTTP a browser ignores the header (RFC 6797 §8.1), so an ``http://`` URL never satisfies it.
- ``x_frame_options`` - ``DENY`` or ``SAMEORIGIN`` (``ALLOW-FROM`` is obsolete), or a CSP ``frame-ancestors``
  directive, which supersedes it.
- ``x_content_type_options`` - ``nosniff``.
- ``csp`` - a non-empty ``Content-Security-Policy`` (``-Report-Only`` alone enforces nothing).

A missing or weak header is a ``missing_status`` finding (default V(warning): the seeds give no severity);
an unreachable URL a V(critical) ``http_reachable`` one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import CRITICAL, OK, make_finding, overall
from ansible_collections.opsbook.runbooks.plugins.module_utils.net import probes

HEADERS = {
    "hsts": "Strict-Transport-Security",
    "x_frame_options": "X-Frame-Options",
    "x_content_type_options": "X-Content-Type-Options",
    "csp": "Content-Security-Policy",
}
DEFAULT_REQUIRE = list(HEADERS)
_MAX_AGE = re.compile(r"(?:^|;)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:;|$)", re.IGNORECASE)


def _frame_ancestors(csp):
    return any(part.strip().lower().startswith("frame-ancestors") for part in (csp or "").split(";"))


def judge_hsts(url, value, min_max_age):
    """(state, value, detail) of Strict-Transport-Security; state ``present`` is fine."""
    if not url.lower().startswith("https://"):
        return "plain_http", None, "served over plain HTTP, where browsers ignore Strict-Transport-Security (RFC 6797 8.1)"
    if value is None:
        return "missing", None, "no Strict-Transport-Security header"
    match = _MAX_AGE.search(value)
    if not match:
        return "invalid", None, "Strict-Transport-Security %r has no max-age" % value
    max_age = int(match.group(1))
    if max_age < min_max_age:
        return "weak", max_age, "Strict-Transport-Security max-age=%d is below %d seconds" % (max_age, min_max_age)
    return "present", max_age, "Strict-Transport-Security %s" % value


def judge_frame_options(value, csp):
    if value is None:
        if _frame_ancestors(csp):
            return "csp_frame_ancestors", None, "no X-Frame-Options, but the CSP's frame-ancestors supersedes it"
        return "missing", None, "no X-Frame-Options header (nor a CSP frame-ancestors directive)"
    if value.strip().upper() in ("DENY", "SAMEORIGIN"):
        return "present", None, "X-Frame-Options %s" % value.strip()
    return "invalid", None, "X-Frame-Options %r is not DENY or SAMEORIGIN" % value


def judge_content_type_options(value):
    if value is None:
        return "missing", None, "no X-Content-Type-Options header"
    if value.strip().lower() == "nosniff":
        return "present", None, "X-Content-Type-Options nosniff"
    return "invalid", None, "X-Content-Type-Options %r is not nosniff" % value


def judge_csp(value, report_only):
    if value and value.strip():
        return "present", None, "Content-Security-Policy %s" % value.strip()[:200]
    if report_only:
        return "report_only", None, "only Content-Security-Policy-Report-Only, which enforces nothing"
    return "missing", None, "no Content-Security-Policy header"


GOOD_STATES = ("present", "csp_frame_ancestors")


def header_findings(url, name, headers, require, min_max_age, missing_status):
    """One ``security_header_<key>`` finding per required header of one response."""
    csp = headers.get("content-security-policy")
    judged = {
        "hsts": lambda: judge_hsts(url, headers.get("strict-transport-security"), min_max_age),
        "x_frame_options": lambda: judge_frame_options(headers.get("x-frame-options"), csp),
        "x_content_type_options": lambda: judge_content_type_options(headers.get("x-content-type-options")),
        "csp": lambda: judge_csp(csp, headers.get("content-security-policy-report-only")),
    }
    findings = []
    for key in require:
        state, value, detail = judged[key]()
        status = OK if state in GOOD_STATES else missing_status
        threshold = {"warn": min_max_age, "crit": None, "direction": "below"} if key == "hsts" and value is not None else None
        findings.append(make_finding("security_header_%s" % key, status, "%s: %s" % (name, detail), value=value,
                                     threshold=threshold, unit="s" if key == "hsts" and value is not None else None,
                                     target=name, state=state))
    return findings


def normalize_require(require, option):
    unknown = [r for r in require if r not in HEADERS]
    if unknown or not require:
        raise InvalidInput("%s: expected a non-empty list of %s, got %r" % (option, ", ".join(HEADERS), require))
    return list(require)


def security_headers(params):
    defaults = dict(timeout=params["timeout"], validate_certs=params["validate_certs"], ca_path=params["ca_path"],
                    method=params["method"], expected_status=[200], require=params["require"], capture_headers=True)
    endpoints = probes.normalize_endpoints(params["urls"], defaults)
    for index, endpoint in enumerate(endpoints):
        endpoint["require"] = normalize_require(endpoint["require"], "urls[%d].require" % index if index else "require")
        probes.ssl_context(endpoint)  # a bad ca_path is bad input, reported before any request
    results, findings = [], []
    for probe, endpoint in zip(probes._pool_map(probes.http_probe, endpoints, params["concurrency"]), endpoints):
        if probe["error"]:
            own = [make_finding("http_reachable", CRITICAL, "%s is unreachable: %s" % (endpoint["name"], probe["error"]),
                                target=endpoint["name"])]
        else:
            own = header_findings(endpoint["url"], endpoint["name"], probe["headers"], endpoint["require"],
                                  params["hsts_min_max_age"], params["missing_status"])
        findings.extend(own)
        headers = probe.get("headers") or {}
        results.append({"name": endpoint["name"], "url": endpoint["url"], "status_code": probe["status_code"],
                        "error": probe["error"], "status": overall(own),
                        "headers": dict((HEADERS[k], headers.get(HEADERS[k].lower())) for k in HEADERS)})
    return {"urls": results, "findings": findings, "status": overall(findings)}
