#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: redis_backup
short_description: Back up a Redis database (logical export and/or RDB copy) with a manifest
version_added: "0.1.0"
description:
  - V(logical) works against a remote server - C(SCAN) the database, C(DUMP) and C(PTTL) every key,
    and write them to C(keys.jsonl.gz) with a per-key SHA-256 digest of its type and content.
  - V(rdb) runs C(BGSAVE), waits until it has completed successfully, and copies the RDB file from
    the server's data directory (this host must be able to read it) with its SHA-256.
  - Every backup gets a C(manifest.json) and is published atomically under a location lock, with
    the same retention rules as M(opsbook.runbooks.pg_backup).
options:
  method:
    description: V(logical), V(rdb) or V(both) (two backups, kinds C(redis) and C(redis_rdb)).
    type: str
    choices: [logical, rdb, both]
    default: logical
  match:
    description: C(SCAN MATCH) pattern of the keys to export (logical).
    type: str
    default: "*"
  data_dir:
    description:
      - Redis data directory as seen from this host (rdb). Default - C(CONFIG GET dir).
    type: path
  bgsave_timeout:
    description: Seconds to wait for C(BGSAVE) to complete.
    type: int
    default: 300
  limit:
    description: Refuse (and publish nothing) when more keys than this match (logical).
    type: int
    default: 1000000
extends_documentation_fragment:
  - opsbook.runbooks.redis
  - opsbook.runbooks.backup
attributes:
  check_mode:
    support: full
    description: Connects and reports what would be written; writes nothing, no C(BGSAVE).
notes:
  - Supports check_mode.
  - Seed - Techbra C(redis-cli BGSAVE).
  - The logical export is not a point-in-time snapshot (keys are read while the server keeps
    serving writes); keys deleted between C(SCAN) and C(DUMP) are left out. Use V(rdb) for a
    point-in-time copy of the whole server.
  - TTLs are stored as the remaining milliseconds at export time and applied again on restore.
seealso:
  - module: opsbook.runbooks.redis_restore
  - module: opsbook.runbooks.backup_catalog
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Logical export of db 0 and a copy of the RDB
  opsbook.runbooks.redis_backup:
    host: 127.0.0.1
    port: 6379
    password: "{{ vault_redis_password }}"
    location: /var/backups/opsbook
    method: both
    keep_days: 30
"""

RETURN = r"""
published:
  description: Whether every requested backup was published.
  returned: always
  type: bool
  sample: true
backup:
  description: Path of the first published backup (the logical one with O(method=both)).
  returned: when published
  type: str
  sample: /var/backups/opsbook/redis-db0-20261123T081500Z
backups:
  description: Backup path per method.
  returned: always
  type: dict
  sample: {logical: /var/backups/opsbook/redis-db0-20261123T081500Z}
manifests:
  description: Manifest per method.
  returned: when published
  type: dict
  sample: {logical: {kind: redis, details: {keys: 42}}}
location:
  description: The backup location.
  returned: always
  type: str
  sample: /var/backups/opsbook
retention:
  description: Retention result per method.
  returned: always
  type: dict
  sample: {logical: {deleted: [], kept: [redis-db0-20261123T081500Z]}}
target:
  description: The Redis database, as C(host:port/db).
  returned: always
  type: str
  sample: 127.0.0.1:6379/0
started:
  description: Start (epoch seconds).
  returned: when published
  type: float
  sample: 1795421700.1
finished:
  description: End (epoch seconds).
  returned: when published
  type: float
  sample: 1795421700.4
duration:
  description: Seconds the backups took.
  returned: when published
  type: float
  sample: 0.3
findings:
  description: Findings C({check, status, value, threshold, unit, message, target}).
  returned: always
  type: list
  elements: dict
  sample: [{check: redis_backup, status: ok, value: 42, message: exported 42 keys ...}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.backup import redis as backup_redis
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_action


def main():
    module = AnsibleModule(argument_spec=backup_redis.backup_argument_spec(), supports_check_mode=True)
    run_action(module, lambda: backup_redis.backup(module.params, module.check_mode))


if __name__ == "__main__":
    main()
