#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sql_checks
short_description: Turn declarative SQL queries with thresholds into findings
version_added: "0.1.0"
description:
  - Runs each check's query against PostgreSQL in its own read-only transaction (always rolled
    back), takes a number from the first row and compares it with the check's thresholds.
  - Each check becomes one finding named after the check; a query that fails is an
    V(unknown) finding for that check, and the other checks still run.
  - Meant for application-level runbook queries such as the ETL runbook's DLQ size, files
    waiting for more than an hour, error rate over 4 hours and SLA success rate.
options:
  checks:
    description: The checks to run.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the check; the finding's C(check).
        type: str
        required: true
      sql:
        description: The query. It runs in a C(READ ONLY) transaction, so it cannot write.
        type: str
        required: true
      column:
        description: Column of the first row that holds the value; the first column when omitted.
        type: str
      count_rows:
        description: Use the number of rows the query returns as the value (for list queries such as "files waiting").
        type: bool
        default: false
      warn:
        description: Threshold for V(warning).
        type: float
      crit:
        description: Threshold for V(critical).
        type: float
      direction:
        description: V(above) when a larger value is worse (counts, rates of errors), V(below) when a smaller one is (success rate).
        type: str
        choices: [above, below]
        default: above
      strict:
        description:
          - When V(true) a value equal to a threshold is still fine (the runbook says C(> 100) or C(< 98));
            when V(false) reaching the threshold counts (C(>= 100)).
        type: bool
        default: false
      unit:
        description: Unit of the value, for the message (V(%), V(files), V(entries)...).
        type: str
      description:
        description: Human label used in the finding's message; the name when omitted.
        type: str
  max_rows:
    description: How many rows of each query to return in C(results).
    type: int
    default: 20
extends_documentation_fragment:
  - opsbook.runbooks.postgres
attributes:
  check_mode:
    support: full
    description: The queries run read-only, the same in check mode.
notes:
  - Supports check_mode.
  - A query that returns no row gives the value null and an V(unknown) finding; write counts
    with C(count(*)) and rates with C(NULLIF) so that an empty table still gives a number.
seealso:
  - module: opsbook.runbooks.pg_health
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: ETL runbook checks
  opsbook.runbooks.sql_checks:
    database: etl_production
    checks:
      - name: etl_dlq_unresolved
        sql: SELECT count(*) FROM etl_dead_letter_queue WHERE resolved = false
        crit: 100
        strict: true
        unit: entries
      - name: etl_sla_success_rate
        sql: >-
          SELECT round((count(*) FILTER (WHERE status = 'loaded'))::numeric * 100 / NULLIF(count(*), 0), 2)
          FROM etl_file WHERE uploaded_at > now() - interval '24 hours'
        warn: 98
        crit: 95
        direction: below
        strict: true
        unit: "%"
"""

RETURN = r"""
results:
  description: Per check its C(name), C(value), C(status), the first O(max_rows) C(rows), C(row_count) and C(error) when the query failed.
  returned: when reachable
  type: list
  elements: dict
  sample:
    - name: etl_dlq_unresolved
      value: 7
      status: ok
      rows: [{count: 7}]
      row_count: 1
findings:
  description: One finding per check.
  returned: always
  type: list
  elements: dict
  sample:
    - check: etl_dlq_unresolved
      status: ok
      value: 7
      threshold: {warn: null, crit: 100, direction: above, strict: true}
      unit: entries
      message: etl_dlq_unresolved is 7 entries (not more than 100)
      target: etl@db:5432/etl_production
status:
  description: Worst status among the findings.
  returned: always
  type: str
  sample: ok
reachable:
  description: Whether the server answered.
  returned: always
  type: bool
  sample: true
target:
  description: The server checked, as C(user@host:port/database).
  returned: always
  type: str
  sample: etl@db:5432/etl_production
duration:
  description: Seconds the module took.
  returned: always
  type: float
  sample: 0.05
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.common import declarative_checks
from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import common as postgres
from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import sql_checks
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_diagnostic


def main():
    argument_spec = postgres.postgres_common_argument_spec()
    argument_spec.update(
        checks=dict(
            type="list",
            elements="dict",
            required=True,
            options=dict(
                name=dict(type="str", required=True),
                sql=dict(type="str", required=True),
                column=dict(type="str"),
                count_rows=dict(type="bool", default=False),
                **declarative_checks.threshold_options()
            ),
        ),
        max_rows=dict(type="int", default=20),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    run_diagnostic(module, "postgres_reachable", postgres.describe_target(params), lambda: sql_checks.run(params))


if __name__ == "__main__":
    main()
