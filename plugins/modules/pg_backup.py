#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_backup
short_description: Back up a PostgreSQL database with pg_dump and a verifiable manifest
version_added: "0.1.0"
description:
  - Runs C(pg_dump) (custom or directory format, compressed; parallel jobs for the directory
    format) on the host that runs the module, against a remote server over TCP.
  - Counts the rows and checksums the content of every table, the sequences and the large
    objects on the same exported snapshot as the dump, and records them, with the server and
    tool versions, the files' sizes and SHA-256, start, end and duration, in C(manifest.json).
  - The backup is written under a temporary name and published atomically; a lock file keeps
    two backups from writing to the same location at once. If C(pg_dump) fails or is killed,
    nothing is published and retention does not run.
  - The password reaches C(pg_dump) only through the C(PGPASSWORD) environment variable; it is
    never on a command line or in a file.
options:
  format:
    description: C(pg_dump) output format.
    type: str
    choices: [custom, directory]
    default: custom
  jobs:
    description: Parallel dump jobs (O(format=directory) only).
    type: int
    default: 1
  compress:
    description: Compression level 0-9.
    type: int
    default: 6
  bin_dir:
    description:
      - Directory of the PostgreSQL client tools. Default - C(PATH), then the newest
        C(/usr/lib/postgresql/*/bin). The tools should be at least as new as the server.
    type: path
  checksums:
    description:
      - Record a content checksum per table and of the large objects (reads every row once).
        With V(false) only row counts are recorded.
    type: bool
    default: true
  dump_timeout:
    description: Seconds C(pg_dump) may run before it is stopped (and nothing is published).
    type: int
    default: 3600
  exec_in:
    description:
      - Reserved - run the tools inside a pod or container. Needs the workload backends, which
        are not available yet; giving it is an error.
    type: dict
extends_documentation_fragment:
  - opsbook.runbooks.postgres
  - opsbook.runbooks.backup
attributes:
  check_mode:
    support: full
    description: Connects and reports what would be written; writes nothing.
notes:
  - Supports check_mode.
  - The checksum pass runs with O(dump_timeout) as its statement timeout, not O(statement_timeout).
  - Without O(password), libpq's own C(PGPASSFILE) / C(~/.pgpass) is used by both the module and C(pg_dump).
  - Seeds - Techbra backup (C(pg_dump)), ML Bling disaster recovery (timestamped dumps, retention 30 days).
seealso:
  - module: opsbook.runbooks.pg_restore
  - module: opsbook.runbooks.backup_catalog
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Back up the application database, keep 30 days
  opsbook.runbooks.pg_backup:
    host: db.internal
    user: backup
    password: "{{ vault_pg_backup_password }}"
    database: ml_bling_sync
    location: /var/backups/opsbook
    keep_days: 30

- name: Parallel directory-format dump, wait up to 10 minutes for a running backup
  opsbook.runbooks.pg_backup:
    database: ecommerce_db
    location: /var/backups/opsbook
    format: directory
    jobs: 4
    lock_wait: 600
    keep_count: 7
"""

RETURN = r"""
published:
  description: Whether a new backup was published.
  returned: always
  type: bool
  sample: true
backup:
  description: Path of the published backup directory.
  returned: when published
  type: str
  sample: /var/backups/opsbook/postgres-ecommerce_db-20261123T081500Z
name:
  description: Name of the published backup.
  returned: when published
  type: str
  sample: postgres-ecommerce_db-20261123T081500Z
location:
  description: The backup location.
  returned: always
  type: str
  sample: /var/backups/opsbook
manifest:
  description: The manifest written next to the dump (no secrets).
  returned: when published
  type: dict
  sample: {schema: opsbook.backup/v1, kind: postgres, files: [{path: dump.pgcustom, size: 2048, sha256: "..."}]}
retention:
  description: Backups deleted and kept by retention, and the newest verified one.
  returned: always
  type: dict
  sample: {deleted: [], kept: [postgres-ecommerce_db-20261123T081500Z], verified: postgres-ecommerce_db-20261123T081500Z}
size:
  description: Total bytes of the backup's files.
  returned: when published
  type: int
  sample: 2048
started:
  description: Start of the backup (epoch seconds).
  returned: when published
  type: float
  sample: 1795421700.1
finished:
  description: End of the backup (epoch seconds).
  returned: when published
  type: float
  sample: 1795421701.4
duration:
  description: Seconds the backup took.
  returned: when published
  type: float
  sample: 1.3
target:
  description: The database backed up, as C(user@host:port/database).
  returned: always
  type: str
  sample: backup@db.internal:5432/ecommerce_db
findings:
  description: Findings C({check, status, value, threshold, unit, message, target}).
  returned: always
  type: list
  elements: dict
  sample: [{check: postgres_backup, status: ok, message: "backed up ecommerce_db (3 tables, ...)"}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.backup import postgres as backup_postgres
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_action


def main():
    module = AnsibleModule(argument_spec=backup_postgres.backup_argument_spec(), supports_check_mode=True)
    run_action(module, lambda: backup_postgres.backup(module.params, module.check_mode))


if __name__ == "__main__":
    main()
