#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_health
short_description: Diagnose a PostgreSQL server and report findings
version_added: "0.1.0"
description:
  - Connects to a PostgreSQL server and reports its version, uptime and
    connection use, with findings in the opsbook vocabulary.
  - An unreachable server is reported as a V(critical) finding, not a task failure,
    so a health check goes on to the next service.
  - Read-only; never changes the server.
options:
  connections_warn_pct:
    description: Connection use (percent of O(pool_size) or C(max_connections)) at which the status is V(warning).
    type: float
    default: 80
  connections_crit_pct:
    description: Connection use at which the status is V(critical).
    type: float
    default: 90
  pool_size:
    description:
      - Size of the application's connection pool. When given, connection use is
        measured against it instead of C(max_connections).
    type: int
extends_documentation_fragment:
  - opsbook.runbooks.postgres
attributes:
  check_mode:
    support: full
    description: The module is read-only and runs the same in check mode.
notes:
  - Supports check_mode.
  - The seed thresholds (pool 80 %) come from the ConectCRM and SparkOne runbooks.
seealso:
  - module: opsbook.runbooks.redis_health
  - module: opsbook.runbooks.kafka_cluster_info
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Check the application database
  opsbook.runbooks.pg_health:
    host: db.internal
    port: 5432
    user: monitor
    password: "{{ vault_pg_monitor_password }}"
    database: ecommerce_db
  register: pg

- name: Measure connection use against a 20-connection application pool
  opsbook.runbooks.pg_health:
    host: /var/run/postgresql
    user: postgres
    pool_size: 20
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
    - check: postgres_connection_utilization
      status: ok
      value: 4.0
      threshold: {warn: 80, crit: 90, direction: above}
      unit: "%"
      message: connection use (4 of 100) is 4% (below the 80% limit)
      target: opsbook@127.0.0.1:15432/opsbook
reachable:
  description: Whether the server answered.
  returned: always
  type: bool
  sample: true
target:
  description: The server checked, as C(user@host:port/database).
  returned: always
  type: str
  sample: opsbook@127.0.0.1:15432/opsbook
latency_ms:
  description: Time to connect, in milliseconds.
  returned: when reachable
  type: float
  sample: 3.2
version:
  description: Server version (C(server_version)).
  returned: when reachable
  type: str
  sample: "15.18 (Debian 15.18-0+deb12u1)"
version_num:
  description: Server version as a number (C(server_version_num)).
  returned: when reachable
  type: int
  sample: 150018
version_string:
  description: Output of C(version()).
  returned: when reachable
  type: str
  sample: PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu
uptime_seconds:
  description: Seconds since the postmaster started.
  returned: when reachable
  type: int
  sample: 3600
in_recovery:
  description: Whether the server is a replica (in recovery).
  returned: when reachable
  type: bool
  sample: false
connections:
  description: Client connections by state, their total and the server limits.
  returned: when reachable
  type: dict
  sample: {by_state: {active: 1, idle: 3}, total: 4, max_connections: 100, superuser_reserved_connections: 3}
pg_stat_statements:
  description: Installed version of the C(pg_stat_statements) extension, or null.
  returned: when reachable
  type: str
  sample: "1.10"
duration:
  description: Seconds the module took.
  returned: always
  type: float
  sample: 0.05
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils import pg_diagnostics, postgres
from ansible_collections.opsbook.runbooks.plugins.module_utils.module_runner import run_diagnostic


def main():
    argument_spec = postgres.postgres_common_argument_spec()
    argument_spec.update(
        connections_warn_pct=dict(type="float", default=80),
        connections_crit_pct=dict(type="float", default=90),
        pool_size=dict(type="int"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    run_diagnostic(
        module,
        "postgres_reachable",
        postgres.describe_target(params),
        lambda: pg_diagnostics.health(params, params),
    )


if __name__ == "__main__":
    main()
