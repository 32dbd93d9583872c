#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: prometheus_query
short_description: Judge PromQL queries against thresholds, one finding per series
version_added: "0.1.0"
description:
  - Evaluates each PromQL instant query through the Prometheus HTTP API (C(/api/v1/query)) and judges
    every series it returns against the query's thresholds, so a query grouped C(by (route)) yields one
    finding per route, named by its labels (for example C(route=/orders)).
  - This is what the seed runbooks do by hand with C(curl .../api/v1/query?query=histogram_quantile(...) | jq),
    for example ConectCRM's C(histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket[5m])) by (le, route))).
  - A query that returns no series, or C(NaN) (such as a quantile over a window without requests), is
    reported with the query's O(queries[].empty) status and says so. C(+Inf) (a quantile beyond the
    highest finite bucket) is V(critical) for an V(above) threshold.
  - A query that Prometheus refuses (a PromQL syntax error) is an V(unknown) finding carrying
    Prometheus's reason; an unreachable server is a single V(critical) finding. Read-only.
options:
  queries:
    description:
      - The checks to run, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the check (the findings' C(check)); unique.
        type: str
        required: true
      query:
        description: PromQL instant query; a range selector must be wrapped in a function such as C(rate()).
        type: str
        required: true
      warn:
        description: Value at which a series is V(warning).
        type: float
      crit:
        description: Value at which a series is V(critical).
        type: float
      direction:
        description: V(above) when a larger value is worse (latency, error rate), V(below) when a smaller one is (hit rate).
        type: str
        choices: [above, below]
        default: above
      strict:
        description: Compare strictly, as the runbooks word it (C(> 5 %)); a value equal to a threshold is then still fine.
        type: bool
        default: false
      unit:
        description: Unit shown with the value (V(s), V(%), V(req/s)).
        type: str
      description:
        description: Plain-language name of the value used in messages (for example C(p99 latency)).
        type: str
      empty:
        description: Status of a query that returns no series or C(NaN).
        type: str
        choices: [ok, unknown, warning, critical]
        default: ok
      target_labels:
        description:
          - Labels that name a series in findings (a name or a list); by default every label but C(__name__).
        type: list
        elements: str
  time:
    description: Evaluation time (RFC 3339 or Unix timestamp); default the server's now.
    type: str
  target:
    description: What to call the checked system in findings of queries without labels; default the Prometheus URL.
    type: str
extends_documentation_fragment:
  - opsbook.runbooks.prometheus
attributes:
  check_mode:
    support: full
    description: The module only reads from Prometheus and runs the same in check mode.
notes:
  - Supports check_mode.
  - The thresholds compare the value exactly as the query returns it; put units into the query
    (C(* 100) for a percentage).
seealso:
  - name: Prometheus HTTP API
    description: Instant queries and their result types.
    link: https://prometheus.io/docs/prometheus/latest/querying/api/
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: p95 and p99 latency per route and the 5xx rate (ConectCRM HighLatencyP95/P99, HighHTTPErrorRate)
  opsbook.runbooks.prometheus_query:
    url: http://prometheus.monitoring:9090
    queries:
      - name: api_latency_p99
        description: p99 latency
        query: histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket[5m])) by (le, route))
        warn: 2
        crit: 5
        unit: s
      - name: api_error_rate
        description: 5xx share of requests
        query: >-
          100 * sum(rate(http_request_duration_seconds_count{status=~"5.."}[5m])) by (route)
          / sum(rate(http_request_duration_seconds_count[5m])) by (route)
        warn: 5
        crit: 10
        unit: "%"
        strict: true
  register: latency

- name: Prometheus behind a proxy with a token
  opsbook.runbooks.prometheus_query:
    url: https://prometheus.example.com
    bearer_token: "{{ vault_prometheus_token }}"
    ca_path: /etc/ssl/internal-ca.pem
    queries:
      - {name: targets_down, query: 'count(up == 0)', crit: 1, description: scrape targets down}
"""

RETURN = r"""
status:
  description: Worst status among the findings.
  returned: always
  type: str
  sample: critical
findings:
  description:
    - Findings C({check, status, value, threshold, unit, message, target}); C(prometheus_reachable), then
      per query one per series (C(target) is the series' labels), or one when the query returned nothing.
  returned: always
  type: list
  elements: dict
  sample:
    - check: api_latency_p99
      status: critical
      value: 7.5
      threshold: {warn: 2.0, crit: 5.0, direction: above}
      unit: s
      message: "p99 latency for route=/orders is 7.5 s, at or above the critical threshold of 5 s"
      target: route=/orders
results:
  description: Per query C({name, query, series, status}) with C(series) a list of C({labels, value, raw}) and C(error) when it failed.
  returned: when Prometheus was reachable
  type: list
  elements: dict
  sample: [{name: api_latency_p99, query: "histogram_quantile(...)", status: critical,
            series: [{labels: {route: /orders}, value: 7.5, raw: "7.5"}]}]
prometheus:
  description: The server that answered C({url, version}) (the URL without credentials).
  returned: when Prometheus was reachable
  type: dict
  sample: {url: "http://127.0.0.1:9090", version: 2.42.0}
reachable:
  description: Whether Prometheus answered.
  returned: always
  type: bool
  sample: true
target:
  description: What was checked.
  returned: always
  type: str
  sample: http://127.0.0.1:9090
duration:
  description: Seconds the module took.
  returned: always
  type: float
  sample: 0.04
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.common import declarative_checks
from ansible_collections.opsbook.runbooks.plugins.module_utils.prometheus import common as prometheus
from ansible_collections.opsbook.runbooks.plugins.module_utils.prometheus import checks as prometheus_checks
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_diagnostic


def main():
    argument_spec = prometheus.prometheus_common_argument_spec()
    argument_spec.update(
        queries=dict(type="list", elements="dict", required=True, options=dict(
            name=dict(type="str", required=True),
            query=dict(type="str", required=True),
            empty=dict(type="str", choices=["ok", "unknown", "warning", "critical"], default="ok"),
            target_labels=dict(type="list", elements="str"),
            **declarative_checks.threshold_options()
        )),
        time=dict(type="str"),
        target=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if prometheus.url_password(params["url"]):  # masked in the returned invocation like a no_log option
        module.no_log_values.add(prometheus.url_password(params["url"]))
    run_diagnostic(module, "prometheus_reachable", params.get("target") or prometheus.describe_target(params),
                   lambda: prometheus_checks.run(params))


if __name__ == "__main__":
    main()
