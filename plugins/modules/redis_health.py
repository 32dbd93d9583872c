#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: redis_health
short_description: Diagnose a Redis server and report findings
version_added: "0.1.0"
description:
  - Sends C(PING) and reads C(INFO) from a Redis server; reports latency, version,
    memory use and keyspace hit rate as findings in the opsbook vocabulary.
  - An unreachable server is reported as a V(critical) finding, not a task failure.
  - Read-only; never changes the server.
options:
  memory_warn_pct:
    description: Memory use (percent of C(maxmemory), or of system memory when unset) at which the status is V(warning).
    type: float
    default: 80
  memory_crit_pct:
    description: Memory use at which the status is V(critical).
    type: float
    default: 90
  hit_rate_warn_pct:
    description: Keyspace hit rate (percent) at or below which the status is V(warning).
    type: float
    default: 95
  hit_rate_crit_pct:
    description: Keyspace hit rate at or below which the status is V(critical).
    type: float
    default: 80
extends_documentation_fragment:
  - opsbook.runbooks.redis
attributes:
  check_mode:
    support: full
    description: The module is read-only and runs the same in check mode.
notes:
  - Supports check_mode.
  - Seed thresholds (memory below 80 %, hit rate above 95 %) come from the Techbra runbook.
seealso:
  - module: opsbook.runbooks.pg_health
  - module: opsbook.runbooks.kafka_cluster_info
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Check the cache
  opsbook.runbooks.redis_health:
    host: cache.internal
    port: 6379
    password: "{{ vault_redis_password }}"
  register: cache

- name: Check a TLS Redis given as a URL
  opsbook.runbooks.redis_health:
    url: "rediss://monitor:{{ vault_redis_password }}@cache.internal:6380/0"
    hit_rate_warn_pct: 90
"""

RETURN = r"""
status:
  description: Worst status among the findings.
  returned: always
  type: str
  sample: ok
findings:
  description: Findings C({check, status, value, threshold, unit, message, target}).
  returned: always
  type: list
  elements: dict
  sample:
    - check: redis_hit_rate
      status: warning
      value: 91.5
      threshold: {warn: 95, crit: 80, direction: below}
      unit: "%"
      message: keyspace hit rate is 91.5%, at or below the warning threshold of 95%
      target: 127.0.0.1:16379/0
reachable:
  description: Whether the server answered PING.
  returned: always
  type: bool
  sample: true
target:
  description: The server checked, without credentials.
  returned: always
  type: str
  sample: 127.0.0.1:16379/0
latency_ms:
  description: PING round trip in milliseconds.
  returned: when reachable
  type: float
  sample: 0.4
version:
  description: C(redis_version) from INFO.
  returned: when reachable
  type: str
  sample: 7.0.15
role:
  description: Replication role.
  returned: when reachable
  type: str
  sample: master
uptime_seconds:
  description: Seconds since the server started.
  returned: when reachable
  type: int
  sample: 3600
memory:
  description: Used and maximum memory in bytes, use in percent, fragmentation ratio.
  returned: when reachable
  type: dict
  sample: {used_bytes: 1048576, maxmemory_bytes: 0, used_pct: 0.01, fragmentation_ratio: 4.2}
hit_rate_pct:
  description: Lifetime keyspace hit rate in percent; null when no lookups happened.
  returned: when reachable
  type: float
  sample: 99.2
connected_clients:
  description: Number of connected clients.
  returned: when reachable
  type: int
  sample: 3
duration:
  description: Seconds the module took.
  returned: always
  type: float
  sample: 0.01
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils import redis_common, redis_diagnostics
from ansible_collections.opsbook.runbooks.plugins.module_utils.module_runner import run_diagnostic


def main():
    argument_spec = redis_common.redis_common_argument_spec()
    argument_spec.update(
        memory_warn_pct=dict(type="float", default=80),
        memory_crit_pct=dict(type="float", default=90),
        hit_rate_warn_pct=dict(type="float", default=95),
        hit_rate_crit_pct=dict(type="float", default=80),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    run_diagnostic(
        module,
        "redis_reachable",
        redis_common.describe_target(params),
        lambda: redis_diagnostics.health(params, params),
    )


if __name__ == "__main__":
    main()
