#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: incident
short_description: Declare, update and resolve an incident from a scenario run's report
version_added: "0.2.0"
description:
  - Reads an opsbook v2 report (C(opsbook run --json)) and, optionally, the Alertmanager alert that started the run.
  - Classifies the incident P1-P4 with a severity matrix (Techbra's by default, see O(severity_matrix)) and the
    alert's own C(priority) or C(severity) label; finds the escalation level and contacts from O(escalation) and the
    time elapsed since the alert started.
  - Keeps one JSON record per incident in O(state_dir), keyed by the alert's fingerprint (else scenario and target),
    written atomically under a lock. Its state goes V(declared) -> V(updated) -> V(resolved); a run whose outcome is
    V(resolved) or V(healthy) resolves it and measures the MTTR.
  - Renders the declaration, update and resolution messages (ETL's communication templates) and a post-mortem
    skeleton (ConectCRM's template) pre-filled with the timeline of every run, task and state change.
  - Sends each message once, when its state change happens, to a Slack-compatible webhook and by e-mail over SMTP.
    A failed delivery is a V(warning) finding C(incident_notify), not a task failure.
  - Running again with the same report changes nothing and sends nothing.
  - Given only a resolved O(alert) (no O(report)), dates the clearing of that alert in its incident's record
    (C(alert_cleared_at), part of the incident timeline from then on). The state does not change and nothing is sent; an incident
    no verified run resolved gives a V(warning) finding saying the alert cleared without a verified fix.
options:
  report:
    description:
      - The v2 report of the run (the parsed JSON of C(opsbook run SCENARIO --json)).
      - Required unless O(alert) is a resolved alert (C(status=resolved)).
    type: dict
  alert:
    description:
      - The Alertmanager alert that started the run (C(labels), C(annotations), C(startsAt), C(fingerprint), C(status)).
      - Without it the record is keyed by scenario and target and a healthy run declares nothing.
      - A resolved alert alone (no O(report)) dates its incident's C(alert_cleared_at) (its C(endsAt)).
    type: dict
  target:
    description: What the incident is about; default the alert's C(instance) label, else the report's hosts.
    type: str
  title:
    description: The incident's title; default C(<alertname or scenario> on <target>).
    type: str
  commander:
    description: The incident commander the declaration names; default the first contact of the escalation level.
    type: str
  severity_matrix:
    description:
      - Rules C({priority, status, checks, scenarios}), the first that matches a finding of the diagnosis gives its
        priority; C(checks) and C(scenarios) are shell patterns (all when unset); C(status) a list (default
        critical and warning). The most urgent priority any finding gets wins; P4 when none matches.
      - Default (Techbra) P1 for a critical customer-facing check (C(http_*), C(api_*), C(app_*), C(slo_*),
        C(workload_*), C(*_health), C(*_availability)), a backup/restore/DR check or a security check; P2 for any
        other critical; P3 for a warning.
    type: list
    elements: dict
  alert_severity:
    description:
      - Priority of the alert's C(severity) label values; default C(critical)/C(page) P2, C(warning) P3, C(info) P4.
      - An alert label C(priority) (P1-P4) wins over everything; otherwise the more urgent of this and the matrix's.
    type: dict
  escalation:
    description:
      - Levels C({level, after, contacts, priorities}); a level is reached once C(after) (V(0m), V(30m), V(2h))
        has elapsed since the incident started, for the C(priorities) it lists (all when unset).
    type: list
    elements: dict
    default: []
  notifications:
    description: Where the messages go.
    type: dict
    suboptions:
      webhook:
        description: "A Slack-compatible incoming webhook (POST C({\"text\": ...}))."
        type: dict
        suboptions:
          url:
            description: The webhook URL (a secret).
            type: str
            required: true
          timeout:
            description: Seconds.
            type: float
            default: 10
          validate_certs:
            description: Verify TLS certificates.
            type: bool
            default: true
          ca_path:
            description: PEM file with the CA certificates to trust.
            type: path
      email:
        description: E-mail over SMTP.
        type: dict
        suboptions:
          host:
            description: SMTP server.
            type: str
            required: true
          port:
            description: SMTP port.
            type: int
            default: 25
          starttls:
            description: Upgrade the connection with STARTTLS.
            type: bool
            default: false
          ssl:
            description: Connect with implicit TLS (SMTPS).
            type: bool
            default: false
          ca_path:
            description: PEM file with the CA certificates to trust.
            type: path
          user:
            description: Login user (no login when unset).
            type: str
          password:
            description: Login password.
            type: str
          sender:
            description: The From address.
            type: str
            required: true
          to:
            description: Recipients.
            type: list
            elements: str
            required: true
          timeout:
            description: Seconds.
            type: float
            default: 10
  state_dir:
    description: Directory of the incident records; default C($OPSBOOK_STATE_DIR/incidents), else C($XDG_STATE_HOME/opsbook/incidents).
    type: path
  template_path:
    description: Directories searched in order for C(declaration.txt.j2), C(update.txt.j2), C(resolution.txt.j2), C(postmortem.md.j2).
    type: list
    elements: path
    default: []
  templates:
    description: Template text by name (V(declaration), V(update), V(resolution), V(postmortem)), overriding O(template_path).
    type: dict
    default: {}
  mttd_target_minutes:
    description: Detection target (ConectCRM "Detecção -> Ação < 2 minutos").
    type: float
    default: 2
  mttr_target_minutes:
    description: Recovery target (ConectCRM post-mortem C(target < 30min)).
    type: float
    default: 30
  update_every_minutes:
    description: The update interval the declaration promises (ETL "every 30 minutes").
    type: int
    default: 30
attributes:
  check_mode:
    support: full
    description: Renders the messages and the post-mortem; writes no record and sends nothing.
notes:
  - Supports check_mode.
requirements:
  - jinja2 (comes with ansible-core)
seealso:
  - module: opsbook.runbooks.http_health
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Declare, update or resolve the incident of this run
  opsbook.runbooks.incident:
    report: "{{ lookup('ansible.builtin.file', '/var/lib/opsbook/reports/api-down.json') | from_json }}"
    alert: "{{ opsbook_incident_alert | default(omit) }}"
    template_path: ["{{ playbook_dir }}/templates/incident"]
    escalation:
      - {level: L1, after: 0m, contacts: [sre-oncall@example.com]}
      - {level: L2, after: 15m, contacts: [sre-lead@example.com], priorities: [P1, P2]}
    notifications:
      webhook: {url: "{{ vault_slack_webhook }}"}
      email: {host: smtp.example.com, port: 587, starttls: true, sender: opsbook@example.com, to: [sre-oncall@example.com]}
  register: incident

- name: Date a cleared alert (the rulebook's resolved event) in its incident
  opsbook.runbooks.incident:
    alert: "{{ ansible_eda.event.alert }}"
"""

RETURN = r"""
incident:
  description: The incident record (null when there is none).
  returned: always
  type: dict
  sample: {id: 3c1a9f, state: declared, priority: P2, started: "2026-01-02T10:30:00Z", mttd_minutes: 1.5,
           escalation: {level: L1, contacts: [sre-oncall@example.com], next_level: L2, next_in_minutes: 13.5}}
record_path:
  description: Path of the record file (null when there is none).
  returned: always
  type: str
  sample: /var/lib/opsbook/incidents/3c1a9f.json
messages:
  description: The messages of this run's state changes C({state, seq, text, notified}), V(check_mode) per channel in check mode.
  returned: always
  type: list
  elements: dict
  sample: [{state: declared, seq: 1, text: "INCIDENT DECLARED: APIDown on backend", notified: {webhook: sent}}]
postmortem:
  description: The post-mortem skeleton (Markdown) of the incident so far.
  returned: always
  type: str
  sample: "# Post-Mortem: APIDown on backend"
findings:
  description: C(incident) (its state), C(incident_mttd) and C(incident_mttr) (C(state=measured)), C(incident_notify) per failed delivery.
  returned: always
  type: list
  elements: dict
  sample: [{check: incident, status: critical, state: declared, value: null, threshold: null, unit: null,
            message: "P2 incident APIDown on backend: declared", target: backend}]
status:
  description: Worst status among the findings.
  returned: always
  type: str
  sample: critical
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_action
from ansible_collections.opsbook.runbooks.plugins.module_utils.incident import service


def main():
    webhook = dict(url=dict(type="str", required=True, no_log=True), timeout=dict(type="float", default=10),
                   validate_certs=dict(type="bool", default=True), ca_path=dict(type="path"))
    email = dict(host=dict(type="str", required=True), port=dict(type="int", default=25),
                 starttls=dict(type="bool", default=False), ssl=dict(type="bool", default=False),
                 ca_path=dict(type="path"), user=dict(type="str"), password=dict(type="str", no_log=True),
                 sender=dict(type="str", required=True), to=dict(type="list", elements="str", required=True),
                 timeout=dict(type="float", default=10))
    argument_spec = dict(
        report=dict(type="dict"),
        alert=dict(type="dict"),
        target=dict(type="str"),
        title=dict(type="str"),
        commander=dict(type="str"),
        severity_matrix=dict(type="list", elements="dict"),
        alert_severity=dict(type="dict"),
        escalation=dict(type="list", elements="dict", default=[]),
        notifications=dict(type="dict", options=dict(webhook=dict(type="dict", options=webhook),
                                                     email=dict(type="dict", options=email))),
        state_dir=dict(type="path"),
        template_path=dict(type="list", elements="path", default=[]),
        templates=dict(type="dict", default={}),
        mttd_target_minutes=dict(type="float", default=2),
        mttr_target_minutes=dict(type="float", default=30),
        update_every_minutes=dict(type="int", default=30),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_action(module, lambda: service.run(module.params, module.check_mode))


if __name__ == "__main__":
    main()
