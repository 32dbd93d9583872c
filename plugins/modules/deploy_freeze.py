#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: deploy_freeze
short_description: Put, lift or check a deploy freeze (a JSON record in a state directory)
version_added: "0.1.0"
description:
  - ConectCRM SLOAvailabilityViolation, "Ação 2 - Parar deploys (freeze)" - stop deploys until the SLO is stable again.
  - O(state=present) writes the freeze record C(<state_dir>/<name>.json) (schema C(opsbook.freeze/v1)) with its reason, the
    numbers that caused it (O(details)) and the time, atomically (temporary file, fsync, rename) under a lock. A freeze
    that already stands is left as it is (not changed).
  - O(state=absent) lifts the freeze O(name) (removes its record); nothing to do when none stands.
  - O(state=query) is the deploy scenario's gate - one V(critical) finding (C(state) V(frozen)) per standing freeze that
    O(confirm) does not name, one V(ok) finding (C(state) V(confirmed)) per freeze it names, or one V(ok) finding when none
    stands. Read-only.
options:
  state:
    description: V(present) freezes, V(absent) lifts, V(query) checks the standing freezes against O(confirm).
    type: str
    choices: [present, absent, query]
    default: query
  name:
    description: Name of the freeze (letters, digits, C(.), C(_), C(-)); what C(--confirm) names. Required with V(present) and V(absent).
    type: str
  reason:
    description: Why deploys are frozen (or why the freeze is lifted), in words; required with V(present).
    type: str
  details:
    description: The numbers behind the freeze (objective, window, SLI, error budget left), kept in the record.
    type: dict
  state_dir:
    description:
      - Directory of the freeze records; default C($OPSBOOK_STATE_DIR/freezes), else C($XDG_STATE_HOME/opsbook/freezes)
        (C(~/.local/state/opsbook/freezes)).
    type: path
  confirm:
    description: With V(query), the freezes confirmed (C(--confirm NAME), C(opsbook_confirm)); each one named does not block.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description: In check mode V(present) and V(absent) report what they would do and write nothing.
notes:
  - Supports check_mode.
  - C(--yes) does not confirm a freeze; only its name does.
seealso:
  - module: opsbook.runbooks.prometheus_query
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Freeze deploys, the availability SLO's error budget is spent
  opsbook.runbooks.deploy_freeze:
    state: present
    name: slo-conectcrm-availability
    reason: "error budget of conectcrm-availability spent: availability 99.82 % over 30d (SLO 99.9 %)"
    details: {objective: 99.9, window: 30d, sli: 99.82, budget_left_pct: -80.0}

- name: Refuse a deploy while a freeze stands, unless it is confirmed
  opsbook.runbooks.deploy_freeze:
    state: query
    confirm: "{{ opsbook_confirm | default([]) }}"
  register: freezes

- name: Lift it by hand
  opsbook.runbooks.deploy_freeze:
    state: absent
    name: slo-conectcrm-availability
    reason: stable again, agreed in the incident review
"""

RETURN = r"""
status:
  description: Worst status among the findings.
  returned: always
  type: str
  sample: critical
findings:
  description: Findings C({check, status, value, state, threshold, unit, message, target}), check C(deploy_freeze).
  returned: always
  type: list
  elements: dict
  sample:
    - check: deploy_freeze
      status: critical
      state: frozen
      message: "deploy refused, deploys frozen by slo-conectcrm-availability since 2026-12-01T10:00:00Z: ...;
        pass --remediate --confirm slo-conectcrm-availability to deploy anyway"
      target: slo-conectcrm-availability
actions:
  description: C({action, target, changed, dry_run, detail}) - V(freeze_deploys) or V(lift_freeze); empty for V(query).
  returned: always
  type: list
  elements: dict
  sample: [{action: freeze_deploys, target: slo-conectcrm-availability, changed: true, dry_run: false, detail: "..."}]
allowed:
  description: With V(query), whether a deploy may go ahead (no freeze stands, or every one is confirmed).
  returned: when state is query
  type: bool
  sample: false
freezes:
  description: With V(query), the standing freeze records.
  returned: when state is query
  type: list
  elements: dict
  sample: [{schema: opsbook.freeze/v1, name: slo-conectcrm-availability, reason: "...", since: "2026-12-01T10:00:00Z", details: {}}]
freeze:
  description: With V(present) or V(absent), the record written, standing or lifted (null when none stood).
  returned: when state is present or absent
  type: dict
  sample: {schema: opsbook.freeze/v1, name: slo-conectcrm-availability, reason: "...", since: "2026-12-01T10:00:00Z", details: {}}
state_dir:
  description: The directory of the freeze records.
  returned: always
  type: str
  sample: /var/lib/opsbook/freezes
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_action
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import overall
from ansible_collections.opsbook.runbooks.plugins.module_utils.slo import freeze


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["present", "absent", "query"], default="query"),
            name=dict(type="str"),
            reason=dict(type="str"),
            details=dict(type="dict"),
            state_dir=dict(type="path"),
            confirm=dict(type="list", elements="str", default=[]),
        ),
        required_if=[("state", "present", ("name", "reason")), ("state", "absent", ("name",))],
        supports_check_mode=True,
    )

    def action():
        result = freeze.run(module.params, check_mode=module.check_mode)
        result["status"] = overall(result["findings"])
        return result

    run_action(module, action)


if __name__ == "__main__":
    main()
