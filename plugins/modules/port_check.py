#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: port_check
short_description: Check TCP reachability and connect latency of many host/port pairs
version_added: "0.1.0"
description:
  - Opens one TCP connection to each target concurrently (bounded pool, bounded timeout) and closes it,
    the automated form of the seed runbooks' C(Test-NetConnection -Port) and C(telnet host port).
  - An unreachable port is a V(critical) finding, not a task failure; the connect time is compared
    with the latency thresholds.
  - Read-only; sends no application data.
options:
  targets:
    description: Host/port pairs to check.
    type: list
    elements: dict
    required: true
    suboptions:
      host:
        description: Host name or address.
        type: str
        required: true
      port:
        description: TCP port.
        type: int
        required: true
      name:
        description: Label used in findings; defaults to C(host:port).
        type: str
      timeout:
        description: Connect timeout in seconds for this target; defaults to O(timeout).
        type: float
  timeout:
    description: Connect timeout in seconds.
    type: float
    default: 3
  concurrency:
    description: Maximum number of connections in flight (capped at 16).
    type: int
    default: 8
  latency_warn_ms:
    description: Connect time in milliseconds at which the status is V(warning).
    type: float
    default: 200
  latency_crit_ms:
    description: Connect time in milliseconds at which the status is V(critical).
    type: float
    default: 1000
attributes:
  check_mode:
    support: full
    description: The module is read-only and runs the same in check mode.
notes:
  - Supports check_mode.
seealso:
  - module: opsbook.runbooks.http_health
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Is the database port open from the application host?
  opsbook.runbooks.port_check:
    targets:
      - {host: db.internal, port: 5432, name: postgres}
      - {host: cache.internal, port: 6379, name: redis}
    timeout: 2
  register: ports
"""

RETURN = r"""
status:
  description: Worst status among the findings.
  returned: always
  type: str
  sample: ok
findings:
  description: Findings C({check, status, value, threshold, unit, message, target}), one per target.
  returned: always
  type: list
  elements: dict
  sample:
    - check: port_reachable
      status: critical
      value: null
      threshold: null
      unit: null
      message: "postgres (db.internal:5432) is not reachable: [Errno 111] Connection refused"
      target: postgres
ports:
  description: One entry per target C({name, host, port, reachable, latency_ms, error}).
  returned: always
  type: list
  elements: dict
  sample: [{name: postgres, host: 127.0.0.1, port: 15432, reachable: true, latency_ms: 0.21, error: null}]
reachable_count:
  description: Number of reachable targets.
  returned: always
  type: int
  sample: 2
unreachable_count:
  description: Number of unreachable targets.
  returned: always
  type: int
  sample: 0
target:
  description: What was checked.
  returned: always
  type: str
  sample: 2 TCP targets
duration:
  description: Seconds the module took.
  returned: always
  type: float
  sample: 0.01
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.net import probes as net_probes
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_diagnostic


def main():
    argument_spec = dict(
        targets=dict(type="list", elements="dict", required=True, options=dict(
            host=dict(type="str", required=True),
            port=dict(type="int", required=True),
            name=dict(type="str"),
            timeout=dict(type="float"),
        )),
        timeout=dict(type="float", default=3),
        concurrency=dict(type="int", default=8),
        latency_warn_ms=dict(type="float", default=200),
        latency_crit_ms=dict(type="float", default=1000),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    run_diagnostic(module, "port_reachable", "%d TCP targets" % len(params["targets"]),
                   lambda: net_probes.port_check(params))


if __name__ == "__main__":
    main()
