#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: files_restore
short_description: Extract a files_backup into an empty directory and verify every file
version_added: "0.1.0"
description:
  - Checks the archive against the SHA-256 in the manifest and refuses (a V(critical) finding) when it differs.
  - Extracts into O(dest), which must be new or empty (nothing is overwritten; archives with absolute
    paths, C(..), links or devices are refused), then compares every file's SHA-256 with the manifest.
  - Putting files back in their original place is left to the operator (compare, then copy).
options:
  backup:
    description: Backup directory. Without it, the newest verified files backup in O(location).
    type: path
  location:
    description: Backup location to pick the newest verified backup from.
    type: path
  label:
    description: Label of the backups to choose from.
    type: str
  dest:
    description: Directory to extract into (new or empty).
    type: path
    required: true
  verify:
    description: Compare every extracted file with the manifest.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Verifies the archive and reports what would be extracted; writes nothing.
notes:
  - Supports check_mode.
seealso:
  - module: opsbook.runbooks.files_backup
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Extract the newest ETL configuration backup for comparison
  opsbook.runbooks.files_restore:
    location: /backup
    label: etl_config
    dest: /tmp/etl-config-restored
"""

RETURN = r"""
backup:
  description: The backup used.
  returned: always
  type: str
  sample: /backup/files-etl_config-20261123T081500Z
dest:
  description: Where the files were extracted.
  returned: always
  type: str
  sample: /tmp/etl-config-restored
restored:
  description: Whether the archive was extracted.
  returned: always
  type: bool
  sample: true
verified:
  description: Whether every file matches the manifest.
  returned: always
  type: bool
  sample: true
problems:
  description: Checksum problems or files that differ.
  returned: always
  type: list
  elements: str
  sample: []
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
  sample: 1795421700.2
duration:
  description: Seconds the module took.
  returned: always
  type: float
  sample: 0.1
findings:
  description: Findings C(files_backup_integrity) and C(files_restore_verified).
  returned: always
  type: list
  elements: dict
  sample: [{check: files_restore_verified, status: ok, message: 12 files ... match backup ...}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.backup import files as backup_files
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_action


def main():
    module = AnsibleModule(argument_spec=backup_files.restore_argument_spec(), supports_check_mode=True)
    run_action(module, lambda: backup_files.restore(module.params, module.check_mode))


if __name__ == "__main__":
    main()
