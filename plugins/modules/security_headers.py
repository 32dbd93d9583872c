#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: security_headers
short_description: Check the security headers (HSTS, X-Frame-Options, X-Content-Type-Options, CSP) of URLs
version_added: "0.1.0"
description:
  - Requests every URL once (concurrently, bounded timeout, redirects not followed) and judges the security headers of
    the response - SparkOne's weekly check C(curl -I https://yourdomain.com | grep -E "(X-Frame-Options|X-Content-Type-Options|Strict-Transport-Security)").
  - "C(security_header_hsts): C(Strict-Transport-Security) with a C(max-age) of at least O(hsts_min_max_age); an
    C(http://) URL never satisfies it, browsers ignore the header over plain HTTP (RFC 6797 section 8.1).
    C(security_header_x_frame_options): C(DENY) or C(SAMEORIGIN), or a CSP C(frame-ancestors) directive.
    C(security_header_x_content_type_options): C(nosniff). C(security_header_csp): a non-empty
    C(Content-Security-Policy) (C(Content-Security-Policy-Report-Only) alone enforces nothing)."
  - A missing, invalid or weak header is a O(missing_status) finding whose C(state) says which; an unreachable URL is
    a V(critical) C(http_reachable) finding, not a task failure. The response's status code is not judged.
  - Read-only.
options:
  urls:
    description:
      - URLs to check, each a string or a dictionary.
      - Dictionary keys C(url) (required), C(name), C(require), C(timeout), C(validate_certs), C(ca_path), C(headers)
        (request headers) and C(method) override the module-level options of the same name for that URL.
    type: list
    elements: raw
    required: true
  require:
    description: The headers to judge.
    type: list
    elements: str
    choices: [hsts, x_frame_options, x_content_type_options, csp]
    default: [hsts, x_frame_options, x_content_type_options, csp]
  hsts_min_max_age:
    description:
      - Smallest acceptable C(max-age) of C(Strict-Transport-Security), in seconds.
      - The default is one year, the value the HSTS preload list asks for; the seeds name none.
    type: int
    default: 31536000
  missing_status:
    description: Status of a missing, invalid or weak header (the seeds give no severity).
    type: str
    choices: [warning, critical]
    default: warning
  method:
    description: HTTP method of the requests (V(HEAD) is what C(curl -I) sends; some servers answer it differently).
    type: str
    choices: [GET, HEAD]
    default: GET
  timeout:
    description: Seconds each request may take.
    type: float
    default: 5
  validate_certs:
    description: Verify the server's certificate and host name.
    type: bool
    default: true
  ca_path:
    description: PEM file with the CA certificates to trust instead of the system store.
    type: path
  concurrency:
    description: Maximum number of requests in flight (capped at 16).
    type: int
    default: 8
attributes:
  check_mode:
    support: full
    description: The module only sends the requests and runs the same in check mode.
notes:
  - Supports check_mode.
seealso:
  - module: opsbook.runbooks.http_health
  - module: opsbook.runbooks.tls_certificate
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Security headers of the public site (SparkOne weekly security check)
  opsbook.runbooks.security_headers:
    urls:
      - https://app.example.com/
      - {name: api, url: "https://api.example.com/health", require: [hsts, x_content_type_options]}
  register: headers
"""

RETURN = r"""
status:
  description: Worst status among the findings.
  returned: always
  type: str
  sample: warning
findings:
  description:
    - Per URL one C(security_header_<header>) finding per required header (C(state) V(present), V(missing),
      V(invalid), V(weak), V(plain_http), V(report_only) or V(csp_frame_ancestors); the HSTS finding's C(value) is
      its C(max-age)), or one C(http_reachable) finding.
  returned: always
  type: list
  elements: dict
  sample:
    - check: security_header_hsts
      status: warning
      value: null
      state: missing
      threshold: null
      unit: null
      message: "app: no Strict-Transport-Security header"
      target: app
urls:
  description: One entry per URL C({name, url, status_code, error, status, headers}); C(headers) maps each judged
    header's name to the value received (null when absent).
  returned: always
  type: list
  elements: dict
  sample: [{name: app, url: "https://app.example.com/", status_code: 200, error: null, status: ok,
            headers: {Strict-Transport-Security: "max-age=31536000", X-Frame-Options: DENY,
                      X-Content-Type-Options: nosniff, Content-Security-Policy: "default-src 'self'"}}]
target:
  description: What was checked.
  returned: always
  type: str
  sample: 2 URLs
duration:
  description: Seconds the module took.
  returned: always
  type: float
  sample: 0.05
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_diagnostic
from ansible_collections.opsbook.runbooks.plugins.module_utils.net import security_headers


def main():
    argument_spec = dict(
        urls=dict(type="list", elements="raw", required=True),
        require=dict(type="list", elements="str", choices=list(security_headers.HEADERS),
                     default=list(security_headers.DEFAULT_REQUIRE)),
        hsts_min_max_age=dict(type="int", default=31536000),
        missing_status=dict(type="str", choices=["warning", "critical"], default="warning"),
        method=dict(type="str", choices=["GET", "HEAD"], default="GET"),
        timeout=dict(type="float", default=5),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        concurrency=dict(type="int", default=8),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    run_diagnostic(module, "http_reachable", "%d URLs" % len(params["urls"]),
                   lambda: security_headers.security_headers(params))


if __name__ == "__main__":
    main()
