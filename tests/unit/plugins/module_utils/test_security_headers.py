"""security_headers: each header's verdict from a response's headers (pure functions, table)."""

from __future__ import annotations

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.net import security_headers as sh

YEAR = 31536000
HTTPS = "https://app.example.com/"


@pytest.mark.parametrize("url, headers, states", [
    (HTTPS, {"strict-transport-security": "max-age=31536000; includeSubDomains", "x-frame-options": "DENY",
             "x-content-type-options": "nosniff", "content-security-policy": "default-src 'self'"},
     ["present", "present", "present", "present"]),
    (HTTPS, {}, ["missing", "missing", "missing", "missing"]),
    ("http://app.example.com/", {"strict-transport-security": "max-age=31536000"}, ["plain_http", "missing", "missing", "missing"]),
    (HTTPS, {"strict-transport-security": "max-age=300", "x-frame-options": "ALLOW-FROM https://a.example",
             "x-content-type-options": "sniff", "content-security-policy-report-only": "default-src 'self'"},
     ["weak", "invalid", "invalid", "report_only"]),
    (HTTPS, {"strict-transport-security": "includeSubDomains", "x-frame-options": "sameorigin",
             "x-content-type-options": " NoSniff ", "content-security-policy": "default-src 'self'; frame-ancestors 'none'"},
     ["invalid", "present", "present", "present"]),
    (HTTPS, {"content-security-policy": "frame-ancestors 'self'"}, ["missing", "csp_frame_ancestors", "missing", "present"]),
])
def test_header_states(url, headers, states):
    findings = sh.header_findings(url, "app", headers, sh.DEFAULT_REQUIRE, YEAR, "warning")
    assert [f["check"] for f in findings] == ["security_header_hsts", "security_header_x_frame_options",
                                              "security_header_x_content_type_options", "security_header_csp"]
    assert [f["state"] for f in findings] == states
    assert [f["status"] for f in findings] == ["ok" if s in sh.GOOD_STATES else "warning" for s in states]


def test_hsts_value_is_the_max_age_and_the_status_configurable():
    [weak] = sh.header_findings(HTTPS, "app", {"strict-transport-security": 'max-age="600"'}, ["hsts"], YEAR, "critical")
    assert (weak["status"], weak["value"], weak["unit"]) == ("critical", 600, "s")
    assert weak["threshold"] == {"warn": YEAR, "crit": None, "direction": "below"}
    assert weak["message"] == "app: Strict-Transport-Security max-age=600 is below 31536000 seconds"


def test_response_headers_lower_case_and_repeated_joined():
    from email.message import Message

    message = Message()
    message["Strict-Transport-Security"] = "max-age=1"
    message["Set-Cookie"] = "a=1"
    message["set-cookie"] = "b=2"
    from ansible_collections.opsbook.runbooks.plugins.module_utils.net.probes import response_headers

    assert response_headers(message) == {"strict-transport-security": "max-age=1", "set-cookie": "a=1, b=2"}
    assert response_headers(None) == {}


@pytest.mark.parametrize("require", [[], ["hsts", "xss"]])
def test_bad_require(require):
    with pytest.raises(InvalidInput) as err:
        sh.normalize_require(require, "require")
    assert str(err.value).startswith("require: expected a non-empty list of hsts, x_frame_options, x_content_type_options, csp")
