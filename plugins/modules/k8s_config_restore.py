#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: k8s_config_restore
short_description: Restore ConfigMaps and Secrets from a k8s_config_backup, then restart Deployments
version_added: "0.1.0"
description:
  - Checks every file of the backup against the SHA-256 in its manifest and refuses (a V(critical)
    finding, nothing applied) when one differs.
  - Decrypts the Secrets with the vault password; a wrong password fails before anything is applied.
  - Applies every object to O(namespace) (default - the namespace it came from) - creates missing
    objects, replaces differing ones (needs O(confirm) set to the namespace), leaves equal ones alone - then
    reads them back and compares their data with the backup.
  - When something changed, rollout-restarts the Deployments in O(restart_deployments) and waits for them
    (the M(opsbook.runbooks.workload) module's Kubernetes backend).
  - O(delete_after_verify) removes a scratch namespace this restore created (DR rehearsal).
options:
  backup:
    description: Backup directory. Without it, the newest verified k8s_config backup in O(location).
    type: path
  location:
    description: Backup location to pick the newest verified backup from.
    type: path
  label:
    description: Label of the backups to choose from (by default the source namespace).
    type: str
  namespace:
    description: Namespace to restore into; default is the backup's source namespace.
    type: str
    default: null
  create_namespace:
    description: Create O(namespace) when it does not exist (otherwise a missing namespace is an error).
    type: bool
    default: false
  confirm:
    description: The target namespace's name, required when existing objects would be replaced.
    type: str
  restart_deployments:
    description: Deployments in O(namespace) to rollout-restart (and wait for) after a change.
    type: list
    elements: str
    default: []
  delete_after_verify:
    description: Delete O(namespace) after the verification; only for a namespace this restore created.
    type: bool
    default: false
  vault_password:
    description: Password the Secrets were encrypted with (ansible-vault). Never logged.
    type: str
  vault_password_file:
    description: File holding the vault password (its first line, whitespace stripped; not a script).
    type: path
  timeout:
    description: Seconds to wait for each restarted Deployment; each API call is bounded by the smaller of this and 30 s.
    type: float
    default: 120
extends_documentation_fragment:
  - opsbook.runbooks.kubernetes
attributes:
  check_mode:
    support: full
    description: Verifies and decrypts the backup and reports what would be created, replaced and restarted; changes nothing.
notes:
  - Supports check_mode.
  - Seed - ML Bling config recovery (C(kubectl apply -f configmaps.yaml -f secrets.yaml), then
    C(kubectl rollout restart deployment/backend)).
requirements:
  - cryptography (ansible-vault's AES256 format, as ansible-core itself uses)
seealso:
  - module: opsbook.runbooks.k8s_config_backup
  - module: opsbook.runbooks.workload
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: What would restoring the newest backup change?
  opsbook.runbooks.k8s_config_restore:
    location: /backup
    label: production
    vault_password_file: /etc/opsbook/vault-pass
  check_mode: true

- name: Restore and restart the backend and the worker
  opsbook.runbooks.k8s_config_restore:
    location: /backup
    label: production
    vault_password_file: /etc/opsbook/vault-pass
    confirm: production
    restart_deployments: [backend, worker]

- name: DR rehearsal - restore into a scratch namespace, verify, delete it
  opsbook.runbooks.k8s_config_restore:
    location: /backup
    label: production
    namespace: production-dr-20261123
    create_namespace: true
    delete_after_verify: true
    vault_password_file: /etc/opsbook/vault-pass
"""

RETURN = r"""
backup:
  description: The backup used.
  returned: always
  type: str
  sample: /backup/k8s_config-production-20261123T081500Z
target:
  description: Namespace restored into.
  returned: always
  type: str
  sample: production
source_namespace:
  description: Namespace the backup was taken from.
  returned: always
  type: str
  sample: production
changes:
  description: Per object - kind, name, operation (create, replace, unchanged) and the key names added, removed, changed.
  returned: always
  type: list
  elements: dict
  sample: [{kind: ConfigMap, name: backend-config, operation: replace, added: [], removed: [], changed: [LOG_LEVEL]}]
counts:
  description: Objects to create, replace and left unchanged.
  returned: when the backup is intact
  type: dict
  sample: {create: 0, replace: 1, unchanged: 1}
restored:
  description: Whether the objects were applied.
  returned: always
  type: bool
  sample: true
verified:
  description: Whether every object read back equals the backup.
  returned: always
  type: bool
  sample: true
problems:
  description: Checksum problems, or objects that differ after the restore.
  returned: always
  type: list
  elements: str
  sample: []
restarted:
  description: Deployments restarted - name, revision, ready replicas.
  returned: always
  type: list
  elements: dict
  sample: [{name: backend, revision: 4, ready_replicas: 2}]
namespace_created:
  description: Whether the namespace was created.
  returned: always
  type: bool
  sample: false
namespace_deleted:
  description: Whether the (scratch) namespace was deleted after the verification.
  returned: always
  type: bool
  sample: false
actions:
  description: What was done or would be done - C({action, target, changed, dry_run, detail}).
  returned: when the backup is intact
  type: list
  elements: dict
  sample: [{action: replace_configmap, target: production/backend-config, changed: true, dry_run: false}]
skipped_backups:
  description: Newer backups skipped because they failed verification.
  returned: always
  type: list
  elements: dict
  sample: []
started:
  description: Start (epoch seconds).
  returned: always
  type: float
  sample: 1795421700.1
finished:
  description: End (epoch seconds).
  returned: always
  type: float
  sample: 1795421703.2
duration:
  description: Seconds the module took.
  returned: always
  type: float
  sample: 3.1
findings:
  description: Findings C(k8s_config_backup_integrity), C(k8s_config_restore), C(k8s_config_restore_verified), C(k8s_config_restart).
  returned: always
  type: list
  elements: dict
  sample: [{check: k8s_config_restore_verified, status: ok, message: 2 ConfigMaps and Secrets in namespace production equal ...}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.backup import k8s as backup_k8s
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_action


def main():
    module = AnsibleModule(argument_spec=backup_k8s.restore_argument_spec(), supports_check_mode=True)
    run_action(module, lambda: backup_k8s.restore(module.params, module.check_mode))


if __name__ == "__main__":
    main()
