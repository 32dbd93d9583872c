#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: files_backup
short_description: Archive files and directories (tar.gz) with a checksummed manifest
version_added: "0.1.0"
description:
  - Writes C(files.tar.gz) of O(paths) (stored under their absolute names without the leading C(/))
    and a C(manifest.json) with the archive's SHA-256 and the size and SHA-256 of every file in it.
  - Published atomically under a location lock, with the retention rules of the other backup modules.
options:
  paths:
    description: Files and directories to archive (the ETL seed archives C(/etc/etl)).
    type: list
    elements: path
    required: true
  exclude:
    description: Shell patterns of file or directory names to leave out.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - opsbook.runbooks.backup
attributes:
  check_mode:
    support: full
    description: Reports what would be archived; writes nothing.
notes:
  - Supports check_mode.
  - Seed - ETL weekly configuration backup (C(tar -czf /backup/etl-config-$(date +%Y%m%d).tar.gz /etc/etl/)).
seealso:
  - module: opsbook.runbooks.files_restore
  - module: opsbook.runbooks.backup_catalog
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Weekly ETL configuration backup, keep 8 weeks
  opsbook.runbooks.files_backup:
    paths: [/etc/etl]
    label: etl_config
    location: /backup
    keep_count: 8
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
  sample: /backup/files-etl_config-20261123T081500Z
manifest:
  description: The manifest (files with SHA-256; C(details.contents) lists the archived files).
  returned: when published
  type: dict
  sample: {kind: files, details: {file_count: 12, bytes: 40960}}
location:
  description: The backup location.
  returned: always
  type: str
  sample: /backup
retention:
  description: Backups deleted and kept by retention.
  returned: always
  type: dict
  sample: {deleted: [], kept: [files-etl_config-20261123T081500Z]}
started:
  description: Start (epoch seconds).
  returned: when published
  type: float
  sample: 1795421700.1
finished:
  description: End (epoch seconds).
  returned: when published
  type: float
  sample: 1795421700.2
duration:
  description: Seconds the backup took.
  returned: when published
  type: float
  sample: 0.1
findings:
  description: Findings C({check, status, value, threshold, unit, message, target}).
  returned: always
  type: list
  elements: dict
  sample: [{check: files_backup, status: ok, value: 12, message: archived 12 files ...}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.backup import files as backup_files
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_action


def main():
    module = AnsibleModule(argument_spec=backup_files.backup_argument_spec(), supports_check_mode=True)
    run_action(module, lambda: backup_files.backup(module.params, module.check_mode))


if __name__ == "__main__":
    main()
