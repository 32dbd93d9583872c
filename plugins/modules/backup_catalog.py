#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: backup_catalog
short_description: List and verify the backups in an opsbook backup location
version_added: "0.1.0"
description:
  - Lists every backup written by the opsbook backup modules (M(opsbook.runbooks.pg_backup),
    M(opsbook.runbooks.redis_backup), M(opsbook.runbooks.files_backup)) in a location, with size,
    age and, with O(verify), a check of every file against the SHA-256 in its manifest.
  - Reports a damaged backup as V(critical), a kind/label without any verified backup as
    V(critical), the newest verified backup older than O(max_age_hours) as V(warning), and
    temporary directories left by a backup that died as V(warning).
  - Read-only.
options:
  location:
    description: The backup location (directory).
    type: path
    required: true
  kind:
    description: Only backups of this kind.
    type: str
    choices: [postgres, redis, redis_rdb, files]
  label:
    description: Only backups with this label.
    type: str
  verify:
    description: Re-hash every file and compare with the manifest.
    type: bool
    default: true
  max_age_hours:
    description:
      - Age of the newest verified backup (per kind and label) above which the status is V(warning).
      - The ML Bling seed backs up every 6 hours.
    type: float
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
notes:
  - Supports check_mode.
  - Seeds - SparkOne C(restore.sh --list) and C(verify_backup.sh), ML Bling backup verification.
seealso:
  - module: opsbook.runbooks.pg_backup
  - module: opsbook.runbooks.redis_backup
  - module: opsbook.runbooks.files_backup
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Verify every backup, warn when the newest is older than 6 hours
  opsbook.runbooks.backup_catalog:
    location: /var/backups/opsbook
    max_age_hours: 6
"""

RETURN = r"""
location:
  description: The location listed.
  returned: always
  type: str
  sample: /var/backups/opsbook
backups:
  description: Every backup, oldest first.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: postgres-shop-20261123T081500Z, kind: postgres, label: shop, size: 2048, age_hours: 0.5,
       verified: true, problems: [], started: "2026-11-23T08:15:00Z", path: /var/backups/opsbook/postgres-shop-20261123T081500Z}
groups:
  description: Per C(kind/label) - count, newest, newest verified and its age in hours.
  returned: always
  type: dict
  sample: {postgres/shop: {kind: postgres, label: shop, count: 3, latest: postgres-shop-20261123T081500Z,
           latest_verified: postgres-shop-20261123T081500Z, age_hours: 0.5}}
leftovers:
  description: Temporary directories left by backups that did not finish.
  returned: always
  type: list
  elements: str
  sample: []
status:
  description: Worst status among the findings.
  returned: always
  type: str
  sample: ok
findings:
  description: Findings C({check, status, value, threshold, unit, message, target}).
  returned: always
  type: list
  elements: dict
  sample: [{check: backup_catalog, status: ok, message: 3 backups in /var/backups/opsbook, all verified}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.backup import common as backup_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import overall
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_action


def main():
    module = AnsibleModule(
        argument_spec=dict(
            location=dict(type="path", required=True),
            kind=dict(type="str", choices=["postgres", "redis", "redis_rdb", "files"]),
            label=dict(type="str"),
            verify=dict(type="bool", default=True),
            max_age_hours=dict(type="float"),
        ),
        supports_check_mode=True,
    )
    params = module.params

    def action():
        result = backup_common.catalog(params["location"], params["kind"], params["label"], params["verify"],
                                       params["max_age_hours"])
        result.update(changed=False, status=overall(result["findings"]))
        return result

    run_action(module, action)


if __name__ == "__main__":
    main()
