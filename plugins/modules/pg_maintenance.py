#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_maintenance
short_description: Run VACUUM, ANALYZE, REINDEX or pg_rotate_logfile() on PostgreSQL
version_added: "0.1.0"
description:
  - Runs maintenance statements one at a time outside a transaction (autocommit), as VACUUM
    and REINDEX CONCURRENTLY require, and reports each statement with its duration.
  - V(vacuum) (optionally C(FULL) and C(ANALYZE)) and V(analyze) of O(tables) or the whole
    database; V(reindex) of O(tables), O(indexes) or the whole database (O(reindex_database)),
    C(CONCURRENTLY) when asked and the server supports it (PostgreSQL 12 or later);
    V(rotate_logfile) calls C(pg_rotate_logfile()).
  - Tables and indexes are checked to exist before anything runs; names are quoted as identifiers.
options:
  operation:
    description: What to run.
    type: str
    required: true
    choices: [vacuum, analyze, reindex, rotate_logfile]
  tables:
    description: Tables (C(table) or C(schema.table)); the whole database when omitted (vacuum, analyze).
    type: list
    elements: str
  indexes:
    description: Indexes to rebuild with O(operation=reindex) (C(index) or C(schema.index)).
    type: list
    elements: str
  reindex_database:
    description: With O(operation=reindex), rebuild every index of the connected database (C(REINDEX DATABASE)).
    type: bool
    default: false
  concurrently:
    description:
      - With O(operation=reindex), rebuild without blocking writes (C(REINDEX ... CONCURRENTLY)) when
        the server is PostgreSQL 12 or later; older servers get a plain REINDEX.
    type: bool
    default: true
  full:
    description: With O(operation=vacuum), C(VACUUM FULL) (rewrites each table under an exclusive lock; needs O(confirm)).
    type: bool
    default: false
  analyze:
    description: With O(operation=vacuum), also update planner statistics (C(VACUUM (ANALYZE))).
    type: bool
    default: false
  confirm:
    description: Must be V(true) for O(full=true).
    type: bool
    default: false
extends_documentation_fragment:
  - opsbook.runbooks.postgres
attributes:
  check_mode:
    support: full
    description: In check mode nothing runs; C(statements) lists exactly what would run.
notes:
  - Supports check_mode.
  - O(statement_timeout) applies to each statement; raise it (or set V(0)) for large tables.
seealso:
  - module: opsbook.runbooks.pg_health
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Monthly ETL maintenance - reindex the database (ETL runbook)
  opsbook.runbooks.pg_maintenance:
    database: etl_production
    operation: reindex
    reindex_database: true
    statement_timeout: 0

- name: Weekly VACUUM ANALYZE (ML Bling)
  opsbook.runbooks.pg_maintenance:
    operation: vacuum
    analyze: true

- name: Reindex the products table (ML Bling "Banco de Dados Lento")
  opsbook.runbooks.pg_maintenance:
    operation: reindex
    tables: [products]

- name: Rotate the server log (ConectCRM DiskSpaceRunningOut)
  opsbook.runbooks.pg_maintenance:
    operation: rotate_logfile
"""

RETURN = r"""
operation:
  description: The operation.
  returned: always
  type: str
  sample: reindex
concurrently:
  description: Whether REINDEX ran with CONCURRENTLY.
  returned: always
  type: bool
  sample: true
statements:
  description: The statements, in order (run, or that would run in check mode).
  returned: always
  type: list
  elements: str
  sample: ['REINDEX TABLE CONCURRENTLY "products"']
operations:
  description: Per statement C({statement, duration, executed}); C(duration) in seconds, null in check mode.
  returned: always
  type: list
  elements: dict
  sample: [{statement: 'REINDEX TABLE CONCURRENTLY "products"', duration: 0.042, executed: true}]
actions:
  description: One action record per statement.
  returned: always
  type: list
  elements: dict
  sample: [{action: reindex, target: "opsbook@db:5432/shop", changed: true, dry_run: false, detail: 'REINDEX TABLE "products" (0.042 s)'}]
server_version_num:
  description: The server's C(server_version_num).
  returned: always
  type: int
  sample: 150018
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import maintenance as pg_maintenance
from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import common as postgres
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_action


def main():
    argument_spec = postgres.postgres_common_argument_spec()
    argument_spec.update(
        operation=dict(type="str", required=True, choices=list(pg_maintenance.OPERATIONS)),
        tables=dict(type="list", elements="str"),
        indexes=dict(type="list", elements="str"),
        reindex_database=dict(type="bool", default=False),
        concurrently=dict(type="bool", default=True),
        full=dict(type="bool", default=False),
        analyze=dict(type="bool", default=False),
        confirm=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_action(module, lambda: pg_maintenance.run(module.params, module.check_mode))


if __name__ == "__main__":
    main()
