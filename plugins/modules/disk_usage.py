#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: disk_usage
short_description: Disk space and inodes per mount, largest directories, growth between two samples
version_added: "0.1.0"
description:
  - Measures the file system of every path in O(paths) (each mount once) with C(statvfs), the numbers
    C(df -B1) and C(df -i) print, and compares the used share of the space and of the inodes with the
    thresholds (seeds ConectCRM DiskSpaceRunningOut, SparkOne and ML Bling "Disco > 90%", preventive alert at 80 %).
  - The used share is C(used / (used + available)) like C(df)'s C(Use%) (which rounds it up to a whole percent).
  - Optionally lists the largest directories under O(largest_paths) (each with everything below it, like
    C(du -x); symlinks not followed, hard links counted once) and measures the growth over O(growth_interval)
    seconds with the time until the mount is full at that rate.
  - Read-only.
options:
  paths:
    description: Absolute paths whose file systems are measured.
    type: list
    elements: path
    default: [/]
  warn_percent:
    description: Used space share (percent) at which the status is V(warning).
    type: float
    default: 80
  crit_percent:
    description: Used space share (percent) at which the status is V(critical).
    type: float
    default: 90
  inode_warn_percent:
    description: Used inode share (percent) at which the status is V(warning).
    type: float
    default: 80
  inode_crit_percent:
    description: Used inode share (percent) at which the status is V(critical).
    type: float
    default: 90
  largest_paths:
    description: Directories under which the largest directories are listed.
    type: list
    elements: path
    default: []
  largest_count:
    description: How many of the largest directories to list per path.
    type: int
    default: 10
  growth_interval:
    description: Seconds between two samples of every mount (V(0) takes one sample, no growth).
    type: float
    default: 0
  full_warn_hours:
    description: With O(growth_interval), fewer hours than this until full at the measured rate is a V(warning).
    type: float
  full_crit_hours:
    description: With O(growth_interval), fewer hours than this until full is V(critical).
    type: float
attributes:
  check_mode:
    support: full
    description: The module only reads and runs the same in check mode.
notes:
  - Supports check_mode.
seealso:
  - module: opsbook.runbooks.file_cleanup
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: ConectCRM DiskSpaceRunningOut - use per mount and the largest directories
  opsbook.runbooks.disk_usage:
    paths: [/, /var/lib/postgresql]
    warn_percent: 80
    crit_percent: 90
    largest_paths: [/srv/conectcrm]
  register: disk
"""

RETURN = r"""
status:
  description: Worst status among the findings.
  returned: always
  type: str
  sample: critical
findings:
  description: Per mount C(disk_usage) and C(disk_inodes) (percent), C(disk_growth) (hours to full) with O(growth_interval).
  returned: always
  type: list
  elements: dict
  sample:
    - {check: disk_usage, status: critical, value: 93.1, threshold: {warn: 80, crit: 90, direction: above}, unit: "%",
       message: "/ space used is 93.1%, at or above the critical threshold of 90%", target: /, state: null}
mounts:
  description: Per mount C({path, mount, fstype, source, size_bytes, used_bytes, available_bytes, used_percent, inodes,
    inodes_used, inodes_free, inodes_used_percent}).
  returned: always
  type: list
  elements: dict
  sample: [{path: /, mount: /, fstype: ext4, source: /dev/sda1, size_bytes: 10737418240, used_bytes: 9663676416,
            available_bytes: 536870912, used_percent: 94.74, inodes: 655360, inodes_used: 120000, inodes_free: 535360,
            inodes_used_percent: 18.31}]
largest:
  description: Per path in O(largest_paths) C({path, directories, errors}); C(directories) C([{path, bytes, disk_bytes}]),
    largest first (C(bytes) apparent as C(du -sb), C(disk_bytes) allocated as C(du -s -B1)).
  returned: always
  type: list
  elements: dict
  sample: [{path: /srv/app, directories: [{path: /srv/app/logs, bytes: 1048576, disk_bytes: 1056768}], errors: []}]
growth:
  description: Per mount C({mount, interval, delta_bytes, bytes_per_second, hours_to_full}) with O(growth_interval).
  returned: always
  type: list
  elements: dict
  sample: [{mount: /, interval: 10.0, delta_bytes: 1048576, bytes_per_second: 104857.6, hours_to_full: 1.42}]
target:
  description: What was checked.
  returned: always
  type: str
  sample: 2 paths
duration:
  description: Seconds the module took.
  returned: always
  type: float
  sample: 0.01
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.disk import usage as disk_usage
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_diagnostic


def main():
    argument_spec = dict(
        paths=dict(type="list", elements="path", default=["/"]),
        warn_percent=dict(type="float", default=80),
        crit_percent=dict(type="float", default=90),
        inode_warn_percent=dict(type="float", default=80),
        inode_crit_percent=dict(type="float", default=90),
        largest_paths=dict(type="list", elements="path", default=[]),
        largest_count=dict(type="int", default=10),
        growth_interval=dict(type="float", default=0),
        full_warn_hours=dict(type="float"),
        full_crit_hours=dict(type="float"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    run_diagnostic(module, "disk_usage", "%d paths" % len(params["paths"]), lambda: disk_usage.run(params))


if __name__ == "__main__":
    main()
