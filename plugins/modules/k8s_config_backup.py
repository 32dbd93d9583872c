#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: k8s_config_backup
short_description: Back up a namespace's ConfigMaps and Secrets (Secrets encrypted with ansible-vault)
version_added: "0.1.0"
description:
  - Exports the ConfigMaps and Secrets of O(namespace) (optionally only those matching O(label_selector)
    or named in O(names)) without cluster metadata (uid, resourceVersion, creationTimestamp, managedFields,
    ownerReferences, status, the C(kubectl.kubernetes.io/last-applied-configuration) annotation), so they
    can be applied to this or another namespace.
  - ConfigMaps are written as C(configmaps.json). Secrets are encrypted in memory in ansible-vault format
    (1.1, AES256; C(ansible-vault view) reads it) and written only as C(secrets.vault); a Secret's value
    never reaches a file in clear.
  - The manifest lists every object with its key names (never values), ConfigMaps with a SHA-256 of their
    data, and every file's SHA-256. Published atomically under a location lock, with retention.
  - The namespace's C(kube-root-ca.crt) ConfigMap and service-account token Secrets are skipped (Kubernetes
    creates them in every namespace) unless named in O(names).
options:
  namespace:
    description: Namespace to export.
    type: str
    default: default
  kinds:
    description: What to export, V(configmaps) and/or V(secrets).
    type: list
    elements: str
    default: [configmaps, secrets]
  label_selector:
    description: Only objects matching this label selector (C(app=backend,tier!=cache)).
    type: str
  names:
    description: Only these objects (names of ConfigMaps and Secrets); each must exist.
    type: list
    elements: str
    default: []
  vault_password:
    description:
      - Password that encrypts the Secrets (ansible-vault). Never logged.
      - Required when Secrets are exported, unless O(vault_password_file) is given.
    type: str
  vault_password_file:
    description: File holding the vault password (its first line, whitespace stripped; not a script).
    type: path
  timeout:
    description: Seconds for the operation; each API call is bounded by the smaller of this and 30 s.
    type: float
    default: 120
extends_documentation_fragment:
  - opsbook.runbooks.backup
  - opsbook.runbooks.kubernetes
attributes:
  check_mode:
    support: full
    description: Lists what would be exported; writes nothing.
notes:
  - Supports check_mode.
  - Seed - ML Bling disaster recovery (C(kubectl get configmaps,secrets -n production -o yaml) export).
requirements:
  - cryptography (ansible-vault's AES256 format, as ansible-core itself uses)
seealso:
  - module: opsbook.runbooks.k8s_config_restore
  - module: opsbook.runbooks.backup_catalog
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Back up ML Bling's configuration, keep 30 days
  opsbook.runbooks.k8s_config_backup:
    namespace: production
    location: /backup
    vault_password_file: /etc/opsbook/vault-pass
    keep_days: 30

- name: Only the backend's ConfigMaps
  opsbook.runbooks.k8s_config_backup:
    namespace: production
    kinds: [configmaps]
    label_selector: app.kubernetes.io/name=backend
    location: /backup
"""

RETURN = r"""
published:
  description: Whether a backup was published.
  returned: always
  type: bool
  sample: true
backup:
  description: Path of the published backup.
  returned: when published
  type: str
  sample: /backup/k8s_config-production-20261123T081500Z
name:
  description: Name of the published backup.
  returned: when published
  type: str
  sample: k8s_config-production-20261123T081500Z
manifest:
  description: The manifest (files with SHA-256; C(details.objects) lists the objects and their key names).
  returned: when published
  type: dict
  sample: {kind: k8s_config, details: {namespace: production, counts: {configmaps: 1, secrets: 1}}}
namespace:
  description: The exported namespace.
  returned: always
  type: str
  sample: production
objects:
  description: Exported objects - kind, name, key names (never values), SHA-256 of a ConfigMap's data.
  returned: always
  type: list
  elements: dict
  sample: [{kind: ConfigMap, name: backend-config, keys: [LOG_LEVEL, SYNC_QUEUE], sha256: 3f1c...}]
counts:
  description: Number of ConfigMaps and Secrets exported.
  returned: always
  type: dict
  sample: {configmaps: 1, secrets: 1}
location:
  description: The backup location.
  returned: always
  type: str
  sample: /backup
retention:
  description: Backups deleted and kept by retention.
  returned: always
  type: dict
  sample: {deleted: [], kept: [k8s_config-production-20261123T081500Z]}
started:
  description: Start (epoch seconds).
  returned: when published
  type: float
  sample: 1795421700.1
finished:
  description: End (epoch seconds).
  returned: when published
  type: float
  sample: 1795421700.3
duration:
  description: Seconds the backup took.
  returned: when published
  type: float
  sample: 0.2
findings:
  description: Findings C({check, status, value, threshold, unit, message, target}).
  returned: always
  type: list
  elements: dict
  sample: [{check: k8s_config_backup, status: ok, value: 2, message: backed up 1 ConfigMaps and 1 Secrets ...}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.backup import k8s as backup_k8s
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_action


def main():
    module = AnsibleModule(argument_spec=backup_k8s.backup_argument_spec(), supports_check_mode=True)
    run_action(module, lambda: backup_k8s.backup(module.params, module.check_mode))


if __name__ == "__main__":
    main()
