#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: workload
short_description: Status, restart, scale, rollback and wait for a workload, whatever runs it
version_added: "0.1.0"
description:
  - One interface over the backends that run applications; the backend is chosen by O(kind),
    usually set per inventory host or group.
  - O(operation=status) is read-only and reports a backend that cannot be reached as a V(critical)
    finding; the other operations change the workload and fail with one clear message on error.
  - A scale to zero replicas needs O(confirm) set to the workload's name.
  - This version ships the V(kubernetes) backend for Deployments (C(status), C(restart) with
    C(kubectl rollout restart) semantics and a wait for the rollout, C(scale), C(wait)) and the V(systemd)
    backend (C(status), C(restart), C(wait)); V(compose) is accepted by the interface and rejected with a
    clear message until its backend lands.
options:
  kind:
    description: Backend that runs the workload.
    type: str
    required: true
    choices: [kubernetes, compose, systemd]
  name:
    description: The workload (Deployment, compose service, or systemd unit; C(.service) is added when no suffix is given).
    type: str
    required: true
  operation:
    description: What to do.
    type: str
    default: status
    choices: [status, restart, scale, rollback, wait]
  replicas:
    description: Desired replicas for O(operation=scale).
    type: int
  revision:
    description: Revision to roll back to for O(operation=rollback); default is the previous one.
    type: int
  confirm:
    description: The workload's name, required to scale it to zero.
    type: str
  timeout:
    description: Seconds to wait for the workload to become ready (each API call is bounded by the smaller of this and 30 s).
    type: float
    default: 120
extends_documentation_fragment:
  - opsbook.runbooks.kubernetes
  - opsbook.runbooks.docker
attributes:
  check_mode:
    support: full
    description: Changing operations report what they would do (C(actions) with C(dry_run=true)) and change nothing.
notes:
  - Supports check_mode.
  - The systemd backend needs systemd as PID 1; in a container without it, O(operation=status) reports a
    V(critical) finding and changing operations fail.
seealso:
  - module: opsbook.runbooks.http_health
  - module: opsbook.runbooks.log_scan
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Is the API unit running?
  opsbook.runbooks.workload:
    kind: systemd
    name: conectcrm-api
  register: api

- name: Restart it and wait until it is active again
  opsbook.runbooks.workload:
    kind: systemd
    name: conectcrm-api
    operation: restart
    timeout: 60
"""

RETURN = r"""
status:
  description: Worst status among the findings (operation=status and wait).
  returned: when findings are returned
  type: str
  sample: ok
findings:
  description: Findings C({check, status, value, threshold, unit, message, target}).
  returned: always
  type: list
  elements: dict
  sample:
    - check: workload_running
      status: critical
      value: failed
      threshold: null
      unit: null
      message: conectcrm-api.service is failed (result exit-code) (failed/failed, 3 restarts)
      target: conectcrm-api.service
actions:
  description: Remediation records C({action, target, changed, dry_run, detail}) of changing operations.
  returned: when the operation changes the workload
  type: list
  elements: dict
  sample: [{action: restart, target: conectcrm-api.service, changed: true, dry_run: true, detail: would run systemctl restart conectcrm-api.service}]
kind:
  description: The backend used.
  returned: success
  type: str
  sample: systemd
workload:
  description: The workload acted on, as the backend names it.
  returned: success
  type: str
  sample: conectcrm-api.service
ready:
  description: Whether the workload is running and ready.
  returned: success
  type: bool
  sample: true
units:
  description: Backend properties per unit (systemd C(systemctl show) properties).
  returned: kind=systemd
  type: list
  elements: dict
  sample: [{Id: conectcrm-api.service, LoadState: loaded, ActiveState: active, SubState: running, NRestarts: 0}]
target:
  description: The workload checked.
  returned: operation=status
  type: str
  sample: systemd/conectcrm-api
duration:
  description: Seconds the module took.
  returned: operation=status
  type: float
  sample: 0.05
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils import docker_engine, k8s_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.workload import dispatch as workload
from ansible_collections.opsbook.runbooks.plugins.module_utils.module_runner import run_action, run_diagnostic


def main():
    argument_spec = dict(
        kind=dict(type="str", required=True, choices=list(workload.KINDS)),
        name=dict(type="str", required=True),
        operation=dict(type="str", default="status", choices=list(workload.OPERATIONS)),
        replicas=dict(type="int"),
        revision=dict(type="int"),
        confirm=dict(type="str"),
        timeout=dict(type="float", default=120),
    )
    argument_spec.update(k8s_common.kubernetes_common_argument_spec())
    argument_spec.update(docker_engine.docker_common_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params

    def call():
        return workload.dispatch(params, module.check_mode)

    if params["operation"] in workload.DIAGNOSTIC_OPERATIONS:
        run_diagnostic(module, "workload_reachable", "%s/%s" % (params["kind"], params["name"]), call)
    else:
        run_action(module, call)


if __name__ == "__main__":
    main()
