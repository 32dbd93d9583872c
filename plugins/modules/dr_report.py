#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dr_report
short_description: Compute achieved RTO/RPO of a DR rehearsal and write its report with a timeline chart
version_added: "0.1.0"
description:
  - Takes the registered results of a rehearsal's steps (backup, restore, verify, cleanup modules
    return C(started), C(finished) and C(findings)) and computes the achieved RTO (first restore
    start to last verification end), the achieved RPO (age of the restored backups when the restore
    began) and the scheduled worst-case RPO (backup interval plus the longest backup).
  - Compares them with the targets (seed - ML Bling RTO 4 h, RPO 1 h, backups every 6 h) and
    reports findings C(dr_rto), C(dr_rpo), C(dr_rpo_schedule), and C(dr_step) for a failed step.
  - Writes C(<report_name>-<stamp>.md) (a person reads it), C(.svg) (the timeline chart) and
    C(.json) atomically into O(report_dir). No connection details or secrets are written.
options:
  steps:
    description:
      - Steps in order, each C({name, phase, result}) with C(phase) one of C(backup),
        C(restore), C(verify), C(cleanup), C(stop), C(migrate), C(start) and C(result) a registered task result.
        Skipped results are left out; a loop's result counts as one step (its items' findings, failed when one failed).
      - A step may carry its own C(started) and C(finished) (epoch seconds) for tasks that do not return them.
      - The achieved RTO spans the C(stop), C(restore), C(migrate), C(start) and C(verify) steps.
    type: list
    elements: dict
    required: true
  report_dir:
    description: Directory the report files are written to (created with mode 0700).
    type: path
    required: true
  title:
    description: Title of the report.
    type: str
    default: Disaster-recovery rehearsal
  rto_target_hours:
    description: Recovery time objective (seed 4 h).
    type: float
    default: 4.0
  rpo_target_hours:
    description: Recovery point objective (seed 1 h).
    type: float
    default: 1.0
  backup_interval_hours:
    description: How often backups run in production (seed every 6 h).
    type: float
    default: 6.0
  schedule_check:
    description: Report C(dr_rpo_schedule) (the backup schedule's worst-case RPO against the target).
    type: bool
    default: true
  report_name:
    description: Base name of the report files (C(<report_name>-<stamp>.md/.svg/.json)) and the findings' target.
    type: str
    default: dr-rehearsal
attributes:
  check_mode:
    support: full
    description: Computes the assessment; writes no files.
notes:
  - Supports check_mode.
seealso:
  - module: opsbook.runbooks.pg_backup
  - module: opsbook.runbooks.pg_restore
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Write the rehearsal report
  opsbook.runbooks.dr_report:
    report_dir: /var/backups/opsbook/reports
    steps:
      - {name: postgres, phase: backup, result: "{{ pg_backup_result }}"}
      - {name: postgres, phase: restore, result: "{{ pg_restore_result }}"}
"""

RETURN = r"""
rto_seconds:
  description: Achieved RTO in seconds (null when a step failed).
  returned: always
  type: float
  sample: 2.4
rpo_seconds:
  description: Achieved RPO in seconds.
  returned: always
  type: float
  sample: 1.1
schedule_rpo_seconds:
  description: Scheduled worst-case RPO in seconds.
  returned: always
  type: float
  sample: 21601.2
targets:
  description: The targets compared against.
  returned: always
  type: dict
  sample: {rto_hours: 4.0, rpo_hours: 1.0, backup_interval_hours: 6.0}
steps:
  description: The timeline - C({name, phase, status, started, finished, duration, message}).
  returned: always
  type: list
  elements: dict
  sample: [{name: postgres, phase: backup, status: ok, started: 1795421700.1, finished: 1795421700.5, duration: 0.4}]
report:
  description: Paths of the written files (C(markdown), C(svg), C(json)); empty in check mode.
  returned: always
  type: dict
  sample: {markdown: /var/backups/opsbook/reports/dr-rehearsal-20261123T081500Z.md}
findings:
  description: Findings C(dr_rto), C(dr_rpo), C(dr_rpo_schedule) and C(dr_step).
  returned: always
  type: list
  elements: dict
  sample: [{check: dr_rto, status: ok, value: 0.001, unit: h, message: achieved RTO ... is 0h}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.backup import report as backup_report
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_action


def main():
    module = AnsibleModule(argument_spec=backup_report.report_argument_spec(), supports_check_mode=True)
    run_action(module, lambda: backup_report.write_report(module.params, module.check_mode))


if __name__ == "__main__":
    main()
