#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: file_cleanup
short_description: Delete old files by age and name pattern under allow-listed roots; vacuum the systemd journal
version_added: "0.1.0"
description:
  - Each rule of O(rules) deletes the regular files under its C(path) whose name matches one of its C(patterns)
    and whose modification time is more than C(age_days) days ago (ETL weekly purge of logs older than 30 days,
    ConectCRM "Remover logs > 7 dias", SparkOne C(find /var/log -name "sparkone-*.log" -mtime +7 -delete)).
  - A rule whose path (resolved) is not under one of O(roots) runs only when O(confirm) names its path; otherwise
    it gives a V(warning) C(not_confirmed) finding and deletes nothing.
  - A path with a C(..) component is refused. Symlinks are never followed nor deleted; other file systems below
    a rule's path are not entered; directories are never deleted.
  - Bytes are accounted per file; C(freed_bytes) counts only files whose last link was removed.
  - With O(journal_vacuum_time) or O(journal_vacuum_size), runs C(journalctl --vacuum-time/--vacuum-size) where a
    journal exists; without journal files the finding is V(ok) with C(state) V(not_applicable).
options:
  rules:
    description:
      - Cleanup rules C({path, patterns, age_days, recurse}); C(patterns) are shell globs on the file name
        (default V(["*.log"])), C(age_days) defaults to V(0) (every matching file), C(recurse) to V(true).
    type: list
    elements: dict
    default: []
  roots:
    description: Directories under which rules may delete without confirmation.
    type: list
    elements: path
    default: []
  confirm:
    description: Rule paths outside O(roots) that may be cleaned (the CLI's C(--confirm PATH)).
    type: list
    elements: str
    default: []
  journal_vacuum_time:
    description: Keep journal files newer than this (C(journalctl --vacuum-time), for example V(7d)).
    type: str
  journal_vacuum_size:
    description: Shrink the journal to this size (C(journalctl --vacuum-size), for example V(500M)).
    type: str
  journal_directory:
    description: A journal directory to vacuum (C(journalctl --directory)) instead of the system's journal.
    type: path
attributes:
  check_mode:
    support: full
    description: In check mode nothing is deleted; C(rules[].files) lists every file that would go, with its size.
notes:
  - Supports check_mode.
  - A deleted file that a process still holds open frees its space only when it is closed (C(lsof +L1)).
seealso:
  - module: opsbook.runbooks.disk_usage
  - module: opsbook.runbooks.docker_prune
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: ETL weekly - purge the logs older than 30 days
  opsbook.runbooks.file_cleanup:
    roots: [/var/log/etl]
    rules:
      - {path: /var/log/etl, patterns: ["*.log"], age_days: 30}

- name: Vacuum the journal down to two weeks
  opsbook.runbooks.file_cleanup:
    journal_vacuum_time: 2weeks
"""

RETURN = r"""
status:
  description: Worst status among the findings.
  returned: always
  type: str
  sample: ok
findings:
  description: Per rule C(file_cleanup) (value the bytes freed, or V(not_confirmed)); C(journal_vacuum) when asked.
  returned: always
  type: list
  elements: dict
  sample: [{check: file_cleanup, status: ok, value: 5242880, unit: bytes, target: /var/log/etl, state: null,
            threshold: null, message: "deleted 3 file(s) older than 30 days matching *.log under /var/log/etl: 5242880 bytes (5242880 freed)"}]
actions:
  description: One C(delete_old_files) per rule that ran, one C(journal_vacuum) when it ran.
  returned: always
  type: list
  elements: dict
  sample: [{action: delete_old_files, target: /var/log/etl, changed: true, dry_run: false, detail: "deleted 3 file(s) ..."}]
rules:
  description: Per rule C({path, resolved, patterns, age_days, under_roots, files, kept, skipped, totals}); C(files)
    C([{path, bytes, disk_bytes, mtime, age_days, last_link}]) deleted (or that would be in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{path: /var/log/etl, resolved: /var/log/etl, patterns: ["*.log"], age_days: 30, under_roots: true,
            files: [{path: /var/log/etl/a.log, bytes: 10, disk_bytes: 4096, mtime: 1700000000.0, age_days: 40.1, last_link: true}],
            kept: [], skipped: [], totals: {count: 1, bytes: 10, freed_bytes: 10, freed_disk_bytes: 4096}}]
totals:
  description: C({count, bytes, freed_bytes, freed_disk_bytes}) over every rule.
  returned: always
  type: dict
  sample: {count: 3, bytes: 5242880, freed_bytes: 5242880, freed_disk_bytes: 5251072}
journal:
  description: With a journal vacuum, C({command, files_before, bytes_before, bytes_after, freed_bytes}).
  returned: when journal_vacuum_time or journal_vacuum_size is set
  type: dict
  sample: {command: [journalctl, --vacuum-time=7d], files_before: 4, bytes_before: 33554432, bytes_after: 8388608, freed_bytes: 25165824}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.disk import cleanup as disk_cleanup
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_diagnostic


def main():
    argument_spec = dict(
        rules=dict(type="list", elements="dict", default=[]),
        roots=dict(type="list", elements="path", default=[]),
        confirm=dict(type="list", elements="str", default=[]),
        journal_vacuum_time=dict(type="str"),
        journal_vacuum_size=dict(type="str"),
        journal_directory=dict(type="path"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    run_diagnostic(module, "file_cleanup", "%d cleanup rules" % len(params["rules"]),
                   lambda: disk_cleanup.run(params, module.check_mode))


if __name__ == "__main__":
    main()
