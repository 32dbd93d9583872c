#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_explain
short_description: EXPLAIN (ANALYZE, BUFFERS) a PostgreSQL statement and summarise its hot spots
version_added: "0.1.0"
description:
  - Explains O(statement), or the query a backend is running right now (O(pid)), in JSON format and
    returns the plan with its hot spots - the nodes with the most exclusive time (or cost without
    ANALYZE) - and the issues found in them (sequential scans discarding many rows, row estimates
    far from the actual rows, sorts spilling to disk).
  - ANALYZE executes the statement. It runs only for read-only statements (C(SELECT), C(WITH),
    C(VALUES), C(TABLE)), inside a C(READ ONLY) transaction that is rolled back; a statement that
    turns out to write falls back to a plain EXPLAIN. Other statements get a plain EXPLAIN unless
    O(force_analyze) is set; they then run inside a transaction that is rolled back (sequences and
    other non-transactional effects remain).
options:
  statement:
    description: The statement to explain. Exactly one of O(statement) and O(pid).
    type: str
  pid:
    description: Explain the query this backend is running (it must be connected to O(database)).
    type: int
  analyze:
    description: Use EXPLAIN ANALYZE (execute the statement) when it is allowed.
    type: bool
    default: true
  force_analyze:
    description: ANALYZE a statement that is not read-only (rolled back; never in check mode).
    type: bool
    default: false
  buffers:
    description: Include buffer usage (C(BUFFERS)) with ANALYZE.
    type: bool
    default: true
  hot_spots:
    description: How many hot spots to return.
    type: int
    default: 5
  warn_ms:
    description: Execution time (ms) that is a warning (Techbra, 100 ms).
    type: float
    default: 100
  crit_ms:
    description: Execution time (ms) that is critical (ConectCRM SlowDatabaseQueries, 1 s).
    type: float
    default: 1000
extends_documentation_fragment:
  - opsbook.runbooks.postgres
attributes:
  check_mode:
    support: full
    description: Read-only statements are analyzed the same way in check mode; others only get a plain EXPLAIN.
notes:
  - Supports check_mode.
seealso:
  - module: opsbook.runbooks.pg_health
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Explain a slow tickets query (ConectCRM SlowDatabaseQueries)
  opsbook.runbooks.pg_explain:
    database: conectcrm
    statement: SELECT * FROM tickets WHERE status = 'open' ORDER BY created_at DESC LIMIT 50
  register: plan

- name: Explain what backend 4242 is running
  opsbook.runbooks.pg_explain:
    pid: 4242
    analyze: false
"""

RETURN = r"""
statement:
  description: The statement explained.
  returned: when reachable
  type: str
  sample: SELECT * FROM tickets WHERE status = 'open'
analyzed:
  description: Whether EXPLAIN ANALYZE ran (the statement was executed and rolled back).
  returned: when reachable
  type: bool
  sample: true
plan:
  description: The JSON plan as PostgreSQL returns it.
  returned: when reachable
  type: dict
  sample: {Plan: {Node Type: Seq Scan, Relation Name: tickets}, Planning Time: 0.1, Execution Time: 12.3}
planning_ms:
  description: Planning time in ms (with ANALYZE).
  returned: when reachable
  type: float
  sample: 0.1
execution_ms:
  description: Execution time in ms (with ANALYZE).
  returned: when reachable
  type: float
  sample: 12.3
total_cost:
  description: Estimated total cost of the plan.
  returned: when reachable
  type: float
  sample: 1693.0
hot_spots:
  description: The nodes with the most exclusive time (ANALYZE) or cost, with C(issues).
  returned: when reachable
  type: list
  elements: dict
  sample:
    - node_type: Seq Scan
      relation: tickets
      index: null
      depth: 1
      exclusive_ms: 11.9
      share_pct: 96.7
      plan_rows: 50
      actual_rows: 48
      loops: 1
      rows_removed_by_filter: 99952
      shared_hit_blocks: 443
      shared_read_blocks: 0
      issues: ["sequential scan of tickets discards 99952 rows by filter ((status = 'open'::text)): an index may help"]
notes:
  description: Why the statement was not analyzed, when it was not.
  returned: when reachable
  type: list
  elements: str
  sample: []
findings:
  description: Execution time against O(warn_ms)/O(crit_ms) (with ANALYZE) and the plan issues.
  returned: always
  type: list
  elements: dict
  sample: [{check: postgres_explain_plan_issues, status: warning, value: 1, threshold: null, unit: null, message: "...", target: "app@db:5432/crm"}]
status:
  description: Worst status among the findings.
  returned: always
  type: str
  sample: warning
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import explain as pg_explain
from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import common as postgres
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_diagnostic


def main():
    argument_spec = postgres.postgres_common_argument_spec()
    argument_spec.update(
        statement=dict(type="str"),
        pid=dict(type="int"),
        analyze=dict(type="bool", default=True),
        force_analyze=dict(type="bool", default=False),
        buffers=dict(type="bool", default=True),
        hot_spots=dict(type="int", default=5),
        warn_ms=dict(type="float", default=100),
        crit_ms=dict(type="float", default=1000),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           mutually_exclusive=[("statement", "pid")], required_one_of=[("statement", "pid")])
    run_diagnostic(module, "postgres_reachable", postgres.describe_target(module.params),
                   lambda: pg_explain.run(module.params, module.check_mode))


if __name__ == "__main__":
    main()
