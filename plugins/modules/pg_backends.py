#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_backends
short_description: List, cancel or terminate PostgreSQL backends by criteria
version_added: "0.1.0"
description:
  - Selects client backends from C(pg_stat_activity) by minimum query duration, state, database,
    user, application name, pid and a regular expression on the query text, and lists them,
    cancels their current query (C(pg_cancel_backend)) or terminates them (C(pg_terminate_backend)).
  - Never touches its own backend, replication (WAL sender) connections, autovacuum or other
    background workers; a pid is only signalled while it still belongs to the backend that was
    selected (same C(backend_start)).
  - Implements the ConectCRM DatabaseConnectionPoolExhausted emergency action
    ("terminate queries running for more than 30 s").
options:
  action:
    description:
      - V(list) only reports the matching backends; V(cancel) cancels their running query;
        V(terminate) closes their sessions (needs O(confirm)).
    type: str
    choices: [list, cancel, terminate]
    default: list
  min_duration:
    description: Only backends whose current (or last) query started at least this many seconds ago.
    type: float
  states:
    description: Only backends in these states (C(active), C(idle), C(idle in transaction), ...).
    type: list
    elements: str
  databases:
    description: Only backends connected to these databases.
    type: list
    elements: str
  users:
    description: Only backends of these roles.
    type: list
    elements: str
  applications:
    description: Only backends with these C(application_name) values.
    type: list
    elements: str
  pids:
    description: Only these backend pids.
    type: list
    elements: int
  query_regex:
    description: Only backends whose query text matches this Python regular expression (searched, not anchored).
    type: str
  confirm:
    description:
      - Must be V(true) for O(action=terminate); terminating closes the clients' sessions.
    type: bool
    default: false
  wait_ms:
    description:
      - With O(action=terminate) on PostgreSQL 14 or later, wait up to this many milliseconds
        for each backend to exit (C(pg_terminate_backend(pid, timeout))). V(0) does not wait.
    type: int
    default: 5000
extends_documentation_fragment:
  - opsbook.runbooks.postgres
attributes:
  check_mode:
    support: full
    description: In check mode nothing is signalled; C(actions) lists exactly the backends that would be hit.
notes:
  - Supports check_mode.
  - O(action=cancel) and O(action=terminate) need at least one criterion, so an empty filter never
    hits every session.
  - A signal PostgreSQL refuses to the user (SQLSTATE 42501, without C(pg_signal_backend) or for a superuser session)
    is a V(critical) C(postgres_permission) finding with C(state=permission_denied); the task does not fail.
    The rights per scenario are in the collection's C(docs/permissions.md).
seealso:
  - module: opsbook.runbooks.pg_health
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Show what runs for more than 5 seconds in conectcrm (ConectCRM runbook)
  opsbook.runbooks.pg_backends:
    databases: [conectcrm]
    states: [active, idle in transaction]
    min_duration: 5

- name: Terminate non-idle queries running for more than 30 seconds
  opsbook.runbooks.pg_backends:
    action: terminate
    confirm: true
    databases: [conectcrm]
    states: [active, idle in transaction, idle in transaction (aborted)]
    min_duration: 30
  register: killed

- name: Cancel a runaway report query
  opsbook.runbooks.pg_backends:
    action: cancel
    applications: [reporting]
    query_regex: "^SELECT .* FROM orders"
"""

RETURN = r"""
action:
  description: The action that ran.
  returned: always
  type: str
  sample: terminate
backends:
  description: The matching backends (before any action), oldest query first.
  returned: always
  type: list
  elements: dict
  sample:
    - pid: 4242
      backend_start: "2026-11-23T08:00:00+00:00"
      user: app
      database: conectcrm
      application_name: api
      client_addr: 10.0.0.5
      state: active
      wait_event_type: null
      wait_event: null
      query_seconds: 42.0
      state_seconds: 42.0
      query: SELECT ...
pids:
  description: Pids of the matching backends.
  returned: always
  type: list
  elements: int
  sample: [4242]
affected_pids:
  description: Pids actually cancelled or terminated (empty in check mode and for V(list)).
  returned: always
  type: list
  elements: int
  sample: [4242]
actions:
  description: One record per matching backend C({action, target, changed, dry_run, detail}).
  returned: always
  type: list
  elements: dict
  sample:
    - action: terminate_backend
      target: opsbook@127.0.0.1:15432/conectcrm pid 4242
      changed: true
      dry_run: false
      detail: pid 4242 (app@conectcrm, active, 42.0s)
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import backends as pg_backends
from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import common as postgres
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_action


def main():
    argument_spec = postgres.postgres_common_argument_spec()
    argument_spec.update(
        action=dict(type="str", choices=list(pg_backends.ACTIONS), default="list"),
        min_duration=dict(type="float"),
        states=dict(type="list", elements="str"),
        databases=dict(type="list", elements="str"),
        users=dict(type="list", elements="str"),
        applications=dict(type="list", elements="str"),
        pids=dict(type="list", elements="int"),
        query_regex=dict(type="str"),
        confirm=dict(type="bool", default=False),
        wait_ms=dict(type="int", default=5000),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_action(module, lambda: pg_backends.run(module.params, module.check_mode), "postgres_permission",
               postgres.describe_target(module.params))


if __name__ == "__main__":
    main()
