#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_restore
short_description: Restore a verified pg_backup into a database and verify the result
version_added: "0.1.0"
description:
  - Checks every file of a backup written by M(opsbook.runbooks.pg_backup) against the SHA-256 in
    its manifest and refuses to restore (a V(critical) finding, nothing changed) when one differs.
  - Creates a new database (the default; an existing one is an error) or, with O(mode=replace)
    and O(confirm) naming the database, drops and recreates it; then runs C(pg_restore), with
    parallel O(jobs).
  - Afterwards compares every table's row count and content checksum, the sequences and the
    large objects with the manifest; any difference is a V(critical) finding.
  - The connection options name the server and the maintenance database used to create the target
    (when they name the target database itself, C(postgres) is used instead).
options:
  backup:
    description: Backup directory to restore. Without it, the newest verified backup in O(location).
    type: path
  location:
    description: Backup location to pick the newest verified backup from (with O(label)).
    type: path
  label:
    description: Label of the backups in O(location) to choose from (default - any label).
    type: str
  target_database:
    description: Database to restore into.
    type: str
    required: true
  mode:
    description:
      - V(create) - the target must not exist. V(replace) - drop it first (connections are
        terminated); needs O(confirm).
    type: str
    choices: [create, replace]
    default: create
  confirm:
    description: Must equal O(target_database) for O(mode=replace).
    type: str
  jobs:
    description: Parallel restore jobs.
    type: int
    default: 1
  bin_dir:
    description: Directory of the PostgreSQL client tools (default - C(PATH), then C(/usr/lib/postgresql/*/bin)).
    type: path
  no_owner:
    description: Do not restore ownership and privileges (restoring as another role).
    type: bool
    default: false
  verify:
    description: Compare the restored database with the manifest.
    type: bool
    default: true
  drop_after_verify:
    description: Drop the target database after verification (a DR rehearsal's scratch database).
    type: bool
    default: false
  restore_timeout:
    description: Seconds C(pg_restore) may run.
    type: int
    default: 3600
  exec_in:
    description: Reserved - run the tools inside a pod or container (needs the workload backends; an error today).
    type: dict
extends_documentation_fragment:
  - opsbook.runbooks.postgres
attributes:
  check_mode:
    support: full
    description: Verifies the backup's checksums and reports what would be restored; changes nothing.
notes:
  - Supports check_mode.
  - Seeds - Techbra restore (C(psql < backup.sql)), ML Bling full and database recovery, SparkOne C(restore.sh).
seealso:
  - module: opsbook.runbooks.pg_backup
  - module: opsbook.runbooks.backup_catalog
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Restore the newest verified backup into a new database
  opsbook.runbooks.pg_restore:
    database: postgres
    location: /var/backups/opsbook
    label: ml_bling_sync
    target_database: ml_bling_sync_restored
    jobs: 2

- name: Replace the production database (destructive, needs the confirmation)
  opsbook.runbooks.pg_restore:
    backup: /var/backups/opsbook/postgres-ml_bling_sync-20261123T081500Z
    target_database: ml_bling_sync
    mode: replace
    confirm: ml_bling_sync
"""

RETURN = r"""
backup:
  description: The backup directory used.
  returned: always
  type: str
  sample: /var/backups/opsbook/postgres-ml_bling_sync-20261123T081500Z
target:
  description: The restored database as C(user@host:port/database).
  returned: always
  type: str
  sample: postgres@db.internal:5432/ml_bling_sync_restored
target_database:
  description: Name of the restored database.
  returned: always
  type: str
  sample: ml_bling_sync_restored
restored:
  description: Whether pg_restore ran to completion.
  returned: always
  type: bool
  sample: true
verified:
  description: Whether the restored database matches the manifest.
  returned: always
  type: bool
  sample: true
problems:
  description: Checksum problems of the backup, or differences of the restored database.
  returned: always
  type: list
  elements: str
  sample: []
skipped_backups:
  description: Newer backups in O(location) skipped because they failed verification.
  returned: always
  type: list
  elements: dict
  sample: []
restore_seconds:
  description: Seconds pg_restore took.
  returned: when restored
  type: float
  sample: 0.8
dropped:
  description: Whether the target was dropped after verification.
  returned: when O(drop_after_verify=true)
  type: bool
  sample: true
started:
  description: Start (epoch seconds).
  returned: always
  type: float
  sample: 1795421700.1
finished:
  description: End (epoch seconds).
  returned: always
  type: float
  sample: 1795421702.0
duration:
  description: Seconds the module took (checksums, restore, verification).
  returned: always
  type: float
  sample: 1.9
findings:
  description: Findings C(postgres_backup_integrity), C(postgres_restore_verified) (or C(postgres_restore) in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{check: postgres_restore_verified, status: ok, message: "... matches backup ..."}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.backup import postgres as backup_postgres
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_action


def main():
    module = AnsibleModule(argument_spec=backup_postgres.restore_argument_spec(), supports_check_mode=True)
    run_action(module, lambda: backup_postgres.restore(module.params, module.check_mode))


if __name__ == "__main__":
    main()
