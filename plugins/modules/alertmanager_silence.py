#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: alertmanager_silence
short_description: Create, extend, list and expire Alertmanager silences, idempotently
version_added: "0.1.0"
description:
  - What the seed runbooks do by hand with C(amtool silence add alertname=APIDown --duration=2h
    --comment="maintenance"), C(amtool silence query) and C(amtool silence expire), through
    Alertmanager's API v2 (C(/api/v2/silences), C(/api/v2/silence/{id})).
  - O(state=present) creates a silence unless an active one with the same matchers and comment
    exists; that one is reported unchanged, or extended when the wanted end is more than a minute later.
    Run twice, it leaves one silence.
  - O(state=absent) expires the active silences with these matchers (and O(comment), when given).
  - O(state=query) returns the active silences (those with exactly O(matchers), when given).
  - An unreachable Alertmanager is a single V(critical) finding C(alertmanager_reachable), not a failure.
options:
  state:
    description: What to do.
    type: str
    choices: [present, absent, query]
    default: present
  matchers:
    description:
      - The alerts to silence, all of which must match. Each is a dict C({name, value, isRegex, isEqual})
        as in the API, or a string C(name=value), C(name!=value), C(name=~regex), C(name!~regex)
        (the value may be double-quoted), as with amtool.
      - Required for O(state=present) and O(state=absent); at least one must select something
        (C(=) or C(=~) with a non-empty value).
    type: list
    elements: raw
  duration:
    description:
      - How long the silence lasts from now (C(2h), C(30m), C(1h30m), C(1d)), when O(ends_at) is not given.
    type: str
    default: 2h
  ends_at:
    description: When the silence ends, an RFC 3339 time with a zone (C(2026-12-01T23:00:00Z)); overrides O(duration).
    type: str
  comment:
    description: Why (required with O(state=present)); with the matchers it identifies the silence.
    type: str
  created_by:
    description: Author recorded in the silence.
    type: str
    default: opsbook
extends_documentation_fragment:
  - opsbook.runbooks.alertmanager
attributes:
  check_mode:
    support: full
    description: In check mode nothing is created, extended or expired; the result says what would be.
notes:
  - Supports check_mode.
seealso:
  - name: Alertmanager API v2
    description: The OpenAPI specification of silences.
    link: https://github.com/prometheus/alertmanager/blob/main/api/v2/openapi.yaml
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Silence the API alerts for the maintenance window (ConectCRM, amtool silence add)
  opsbook.runbooks.alertmanager_silence:
    url: http://alertmanager.monitoring:9093
    matchers:
      - alertname=~"APIDown|HighLatencyP95"
      - instance=api-01
    duration: 2h
    comment: "maintenance run 2026-12-01 (opsbook)"
    created_by: oncall
  register: silence

- name: Expire it
  opsbook.runbooks.alertmanager_silence:
    url: http://alertmanager.monitoring:9093
    state: absent
    matchers: [{name: alertname, value: "APIDown|HighLatencyP95", isRegex: true}, instance=api-01]

- name: List the active silences
  opsbook.runbooks.alertmanager_silence:
    url: https://alertmanager.example.com
    token: "{{ vault_alertmanager_token }}"
    state: query
"""

RETURN = r"""
status:
  description: Worst status among the findings (V(critical) when Alertmanager was unreachable).
  returned: always
  type: str
  sample: ok
findings:
  description: One finding C(alertmanager_reachable) saying what was done or why nothing could be.
  returned: always
  type: list
  elements: dict
actions:
  description: C({action, target, changed, dry_run, detail}) with action C(silence) or C(expire_silence).
  returned: when Alertmanager was reachable
  type: list
  elements: dict
silence_id:
  description: The id of the silence created, extended or found (state present; null for a new one in check mode).
  returned: when state is present and Alertmanager was reachable
  type: str
  sample: 2c2a8e6e-43b3-4b5d-a7c5-9a2f0d9b1e11
silence_state:
  description: V(created), V(extended), V(unchanged), V(expired) or V(absent).
  returned: when state is present or absent and Alertmanager was reachable
  type: str
  sample: created
silences:
  description:
    - The silences concerned, each C({id, state, matchers, matchers_text, starts_at, ends_at, created_by, comment}).
    - The matching active ones (present), those expired (absent), the active ones (query).
  returned: when Alertmanager was reachable
  type: list
  elements: dict
expired:
  description: Ids of the silences expired (state absent).
  returned: when state is absent and Alertmanager was reachable
  type: list
  elements: str
alertmanager:
  description: The server that answered C({url, version}) (the URL without credentials).
  returned: when Alertmanager was reachable
  type: dict
  sample: {url: "http://127.0.0.1:9093", version: 0.25.0}
reachable:
  description: Whether Alertmanager answered.
  returned: always
  type: bool
target:
  description: The Alertmanager URL without credentials.
  returned: always
  type: str
duration:
  description: Seconds the module took.
  returned: always
  type: float
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.alertmanager import common as alertmanager
from ansible_collections.opsbook.runbooks.plugins.module_utils.alertmanager import silences
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_diagnostic


def main():
    argument_spec = alertmanager.alertmanager_common_argument_spec()
    argument_spec.update(
        state=dict(type="str", choices=["present", "absent", "query"], default="present"),
        matchers=dict(type="list", elements="raw"),
        duration=dict(type="str", default="2h"),
        ends_at=dict(type="str"),
        comment=dict(type="str"),
        created_by=dict(type="str", default="opsbook"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if alertmanager.url_password(params["url"]):  # masked in the returned invocation like a no_log option
        module.no_log_values.add(alertmanager.url_password(params["url"]))
    run_diagnostic(module, "alertmanager_reachable", alertmanager.describe_target(params),
                   lambda: silences.run(params, check_mode=module.check_mode))


if __name__ == "__main__":
    main()
