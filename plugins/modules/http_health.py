#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: http_health
short_description: Check many HTTP health endpoints concurrently
version_added: "0.1.0"
description:
  - Requests every endpoint concurrently (bounded pool, bounded timeout), compares the status code with
    the expected ones and, optionally, a JSON field selected with a JMESPath query (for example
    C(status) equal to C(UP), as in the seed runbooks' C(/health) checks).
  - Reports the latency of every endpoint; an unreachable endpoint, a wrong status code or a wrong
    JSON value is a V(critical) finding, not a task failure.
  - Redirects are not followed (a redirect is reported with its own status code).
  - Read-only.
options:
  endpoints:
    description:
      - Endpoints to check, each a URL string or a dictionary.
      - Dictionary keys C(url) (required), C(name), C(expected_status), C(json_query), C(json_expected),
        C(timeout), C(validate_certs), C(ca_path), C(headers), C(method), C(latency_warn_ms),
        C(latency_crit_ms) override the module-level options of the same name for that endpoint;
        an empty C(json_query) turns the JSON check off for that endpoint.
    type: list
    elements: raw
    required: true
  expected_status:
    description: Status codes that count as healthy.
    type: list
    elements: int
    default: [200]
  json_query:
    description: JMESPath query evaluated on the JSON body (for example V(status)); unset skips the JSON check.
    type: str
  json_expected:
    description:
      - Value the O(json_query) result must equal (compared as text, for example V(UP)), or a list of values any
        of which is healthy (V([UP, OK, HEALTHY])).
      - When unset, the result must be present and truthy.
    type: list
    elements: str
  timeout:
    description: Whole-request timeout in seconds (connect and read).
    type: float
    default: 5
  validate_certs:
    description: Verify TLS certificates and host names.
    type: bool
    default: true
  ca_path:
    description: PEM file with the CA certificates to trust instead of the system store.
    type: path
  concurrency:
    description: Maximum number of requests in flight (capped at 16).
    type: int
    default: 8
  latency_warn_ms:
    description: Response time in milliseconds at which the status is V(warning).
    type: float
    default: 1000
  latency_crit_ms:
    description: Response time in milliseconds at which the status is V(critical).
    type: float
    default: 5000
attributes:
  check_mode:
    support: full
    description: The module only sends the configured requests (GET by default) and runs the same in check mode.
notes:
  - Supports check_mode.
requirements:
  - jmespath (only when O(json_query) is used)
seealso:
  - module: opsbook.runbooks.port_check
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Are the APIs up?
  opsbook.runbooks.http_health:
    endpoints:
      - {name: api, url: "https://api.internal/health"}
      - {name: auth, url: "https://auth.internal/actuator/health", expected_status: [200, 204]}
    json_query: status
    json_expected: UP
    ca_path: /etc/ssl/internal-ca.pem
  register: health
"""

RETURN = r"""
status:
  description: Worst status among the findings.
  returned: always
  type: str
  sample: ok
findings:
  description: Findings C({check, status, value, threshold, unit, message, target}); per endpoint
    C(http_status) (or C(http_reachable)), C(http_json) when a query is set, and C(http_latency).
  returned: always
  type: list
  elements: dict
  sample:
    - check: http_json
      status: critical
      value: DOWN
      threshold: {expected: UP}
      unit: null
      message: "api: status is 'DOWN', expected 'UP'"
      target: api
endpoints:
  description: One entry per endpoint C({name, url, status_code, latency_ms, json_value, error, status}).
  returned: always
  type: list
  elements: dict
  sample: [{name: api, url: "http://127.0.0.1:8080/health", status_code: 200, latency_ms: 3.1,
            json_value: UP, error: null, status: ok}]
healthy_count:
  description: Endpoints whose findings are all V(ok).
  returned: always
  type: int
  sample: 2
unhealthy_count:
  description: Endpoints with at least one finding that is not V(ok).
  returned: always
  type: int
  sample: 0
target:
  description: What was checked.
  returned: always
  type: str
  sample: 2 HTTP endpoints
duration:
  description: Seconds the module took.
  returned: always
  type: float
  sample: 0.05
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.net import probes as net_probes
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_diagnostic


def main():
    argument_spec = dict(
        endpoints=dict(type="list", elements="raw", required=True),
        expected_status=dict(type="list", elements="int", default=[200]),
        json_query=dict(type="str"),
        json_expected=dict(type="list", elements="str"),
        timeout=dict(type="float", default=5),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        concurrency=dict(type="int", default=8),
        latency_warn_ms=dict(type="float", default=1000),
        latency_crit_ms=dict(type="float", default=5000),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    run_diagnostic(module, "http_reachable", "%d HTTP endpoints" % len(params["endpoints"]),
                   lambda: net_probes.http_health(params))


if __name__ == "__main__":
    main()
