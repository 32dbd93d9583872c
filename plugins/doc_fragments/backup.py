# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  location:
    description:
      - Backup location, a directory on the host that runs the module (created with mode 0700).
      - Each backup is a directory C(<kind>-<label>-<YYYYmmddTHHMMSSZ>) with its files and a
        C(manifest.json) (sizes and SHA-256 of every file); it is written under a hidden temporary
        name and renamed into place only when complete.
    type: path
    required: true
  label:
    description:
      - Name that groups backups of the same source (retention and "latest" work per label).
      - Defaults to the database name, C(db<N>) for Redis, or C(files).
    type: str
  lock_wait:
    description:
      - Seconds to wait for another backup writing to the same O(location) to finish.
      - With V(0) a second concurrent backup fails at once with a clear message.
    type: float
    default: 0
  keep_count:
    description:
      - Retention, after a successful backup only - keep the newest O(keep_count) backups of this label.
      - With O(keep_days) too, a backup is deleted only when both rules would delete it.
      - The newest verified backup is never deleted; when the new backup fails nothing is deleted.
    type: int
  keep_days:
    description:
      - Retention - keep backups younger than this many days (the ML Bling seed keeps 30).
    type: float
"""
