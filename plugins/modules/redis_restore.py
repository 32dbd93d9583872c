#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: redis_restore
short_description: Restore a logical Redis backup with RESTORE and verify every key
version_added: "0.1.0"
description:
  - Checks the backup's files against the SHA-256 in its manifest and refuses to restore
    (a V(critical) finding) when one differs.
  - Restores every key with C(RESTORE) (remaining TTL kept) into the database given by the
    connection options - typically another db number for a rehearsal.
  - Existing keys are an error unless O(replace) is set with O(confirm) naming the target.
  - Afterwards compares the key count and every key's content digest with the backup; a
    difference is V(critical).
  - RDB backups (kind C(redis_rdb)) are not restored by this module - an RDB file is put in
    place in the data directory of a stopped server.
options:
  backup:
    description: Backup directory. Without it, the newest verified logical backup in O(location).
    type: path
  location:
    description: Backup location to pick the newest verified backup from (with O(label)).
    type: path
  label:
    description: Label of the backups to choose from (e.g. C(db0)).
    type: str
  replace:
    description: Overwrite keys that already exist; needs O(confirm).
    type: bool
    default: false
  confirm:
    description: Must equal the target as C(host:port/db) for O(replace=true).
    type: str
  verify:
    description: Compare the restored keys with the backup.
    type: bool
    default: true
  delete_after_verify:
    description: Delete the restored keys after verification (a DR rehearsal's scratch db).
    type: bool
    default: false
extends_documentation_fragment:
  - opsbook.runbooks.redis
attributes:
  check_mode:
    support: full
    description: Verifies checksums and reports how many keys would be restored; writes nothing.
notes:
  - Supports check_mode.
seealso:
  - module: opsbook.runbooks.redis_backup
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Rehearse - restore the newest db0 backup into db 9 and verify
  opsbook.runbooks.redis_restore:
    db: 9
    location: /var/backups/opsbook
    label: db0
    delete_after_verify: true
"""

RETURN = r"""
backup:
  description: The backup directory used.
  returned: always
  type: str
  sample: /var/backups/opsbook/redis-db0-20261123T081500Z
target:
  description: The database restored into, as C(host:port/db).
  returned: always
  type: str
  sample: 127.0.0.1:6379/9
restored:
  description: Whether the keys were restored.
  returned: always
  type: bool
  sample: true
verified:
  description: Whether every key matches the backup.
  returned: always
  type: bool
  sample: true
keys:
  description: Keys restored.
  returned: always
  type: int
  sample: 42
problems:
  description: Checksum problems of the backup or keys that differ.
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
deleted:
  description: Keys deleted after verification.
  returned: when O(delete_after_verify=true)
  type: int
  sample: 42
started:
  description: Start (epoch seconds).
  returned: always
  type: float
  sample: 1795421700.1
finished:
  description: End (epoch seconds).
  returned: always
  type: float
  sample: 1795421700.3
duration:
  description: Seconds the module took.
  returned: always
  type: float
  sample: 0.2
findings:
  description: Findings C(redis_backup_integrity) and C(redis_restore_verified).
  returned: always
  type: list
  elements: dict
  sample: [{check: redis_restore_verified, status: ok, message: "... matches backup ..."}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.backup import redis as backup_redis
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_action


def main():
    module = AnsibleModule(argument_spec=backup_redis.restore_argument_spec(), supports_check_mode=True)
    run_action(module, lambda: backup_redis.restore(module.params, module.check_mode))


if __name__ == "__main__":
    main()
