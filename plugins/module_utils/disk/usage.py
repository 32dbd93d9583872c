# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Disk and inode use per mount (the numbers of ``df -B1`` and ``df -i``), largest directories, growth.

``statvfs`` gives what ``df`` prints: size ``f_blocks * f_frsize``, used ``(f_blocks - f_bfree) * f_frsize``,
available ``f_bavail * f_frsize``; the use percentage is ``used / (used + available)``, the share of the
space a non-root writer can reach (``df`` rounds it up to a whole percent, we keep two decimals).
Inodes: ``f_files``, used ``f_files - f_ffree``, free ``f_ffree``. A file system without an inode count
(``f_files == 0``: btrfs, some network file systems) gets no inode finding.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    OK,
    UNKNOWN,
    make_finding,
    threshold_finding,
)

MOUNTINFO = "/proc/self/mountinfo"


def _unescape(field):
    """Octal escapes of /proc/self/mountinfo (``\\040`` is a space)."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text):
    """``[{mount, fstype, source}]`` from /proc/self/mountinfo text, in file order."""
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 5 or len(tail) < 2:
            continue
        mounts.append({"mount": _unescape(fields[4]), "fstype": tail[0], "source": _unescape(tail[1])})
    return mounts


def mount_of(path, mounts):
    """The mount entry a (real) path lives on: the longest mount point containing it (the last one wins)."""
    best = None
    for entry in mounts:
        point = entry["mount"]
        if path == point or path.startswith(point.rstrip("/") + "/") or point == "/":
            if best is None or len(point) >= len(best["mount"]):
                best = entry
    return best or {"mount": "/", "fstype": None, "source": None}


def read_mounts():
    try:
        with open(MOUNTINFO) as handle:
            return parse_mountinfo(handle.read())
    except (IOError, OSError):
        return []


def percent(part, whole):
    return round(100.0 * part / whole, 2) if whole else None


def space(vfs):
    """df's numbers from an ``os.statvfs`` result."""
    total = vfs.f_blocks * vfs.f_frsize
    used = (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize
    avail = vfs.f_bavail * vfs.f_frsize
    inodes = vfs.f_files
    inodes_free = vfs.f_ffree
    return {
        "size_bytes": total,
        "used_bytes": used,
        "available_bytes": avail,
        "used_percent": percent(used, used + avail),
        "inodes": inodes,
        "inodes_used": inodes - inodes_free if inodes else None,
        "inodes_free": inodes_free if inodes else None,
        "inodes_used_percent": percent(inodes - inodes_free, inodes) if inodes else None,
    }


def measure(path, mounts=None):
    """One path's file system: df's numbers plus ``{path, mount, fstype, source}``."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise InvalidInput("paths: expected absolute paths, got %r" % (path,))
    real = os.path.realpath(path)
    vfs = os.statvfs(real)
    entry = mount_of(real, read_mounts() if mounts is None else mounts)
    result = {"path": path, "mount": entry["mount"], "fstype": entry["fstype"], "source": entry["source"]}
    result.update(space(vfs))
    return result


def usage_findings(usage, warn, crit, inode_warn, inode_crit):
    """``disk_usage`` and ``disk_inodes`` findings of one measured mount."""
    target = usage["mount"]
    found = [threshold_finding("disk_usage", usage["used_percent"], warn, crit, unit="%", target=target,
                               label="%s space used" % target)]
    if usage["inodes_used_percent"] is not None:
        found.append(threshold_finding("disk_inodes", usage["inodes_used_percent"], inode_warn, inode_crit, unit="%",
                                       target=target, label="%s inodes used" % target))
    return found


def largest_directories(root, count, one_file_system=True):
    """The ``count`` largest directories under ``root`` (each with everything below it), largest first.

    Like ``du -sb`` / ``du -s -B1`` per directory (the directories' own sizes included): ``bytes`` apparent size, ``disk_bytes`` allocated (512-byte
    blocks); a hard-linked file counts once; symlinks are not followed; with ``one_file_system`` other file
    systems mounted below are not entered (``du -x``). Unreadable directories are counted in ``errors``.
    """
    real = os.path.realpath(root)
    try:
        root_dev = os.lstat(real).st_dev
    except OSError as exc:
        raise InvalidInput("largest_paths: %s cannot be read: %s" % (root, exc.strerror))
    seen, totals, errors = set(), {}, []

    def onerror(exc):
        errors.append(getattr(exc, "filename", None) or str(exc))

    for dirpath, dirnames, filenames in os.walk(real, topdown=True, onerror=onerror, followlinks=False):
        if one_file_system:
            kept = []
            for name in dirnames:
                try:
                    if os.lstat(os.path.join(dirpath, name)).st_dev == root_dev:
                        kept.append(name)
                except OSError:
                    pass
            dirnames[:] = kept
        try:
            own = os.lstat(dirpath)
            size, disk = own.st_size, own.st_blocks * 512
        except OSError:
            size = disk = 0
        for name in filenames:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            if st.st_nlink > 1:
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    continue
                seen.add(key)
            size += st.st_size
            disk += st.st_blocks * 512
        totals[dirpath] = [size, disk]
    # add each directory's own totals to every ancestor below the root, deepest first
    for dirpath in sorted(totals, key=lambda p: p.count("/"), reverse=True):
        if dirpath == real:
            continue
        parent = os.path.dirname(dirpath)
        if parent in totals:
            totals[parent][0] += totals[dirpath][0]
            totals[parent][1] += totals[dirpath][1]
    ranked = sorted(totals.items(), key=lambda item: (-item[1][1], -item[1][0], item[0]))[:count]
    return {"path": root, "directories": [{"path": p, "bytes": b, "disk_bytes": d} for p, (b, d) in ranked],
            "errors": errors[:20]}


def growth(first, second, seconds):
    """Growth between two samples of one mount: bytes per second and hours until it is full at that rate."""
    delta = second["used_bytes"] - first["used_bytes"]
    rate = delta / seconds if seconds > 0 else None
    hours = round(second["available_bytes"] / rate / 3600.0, 2) if rate and rate > 0 else None
    return {"mount": second["mount"], "interval": round(seconds, 3), "delta_bytes": delta,
            "bytes_per_second": round(rate, 2) if rate is not None else None, "hours_to_full": hours}


def growth_finding(sample, full_warn_hours=None, full_crit_hours=None):
    """``disk_growth``: hours until the mount is full at the measured rate (below the thresholds is worse)."""
    target = sample["mount"]
    hours = sample["hours_to_full"]
    if hours is None:
        return make_finding("disk_growth", OK, "%s did not grow over %.1f s (%d bytes)" % (
            target, sample["interval"], sample["delta_bytes"]), value=sample["bytes_per_second"], unit="B/s",
            target=target, state="not_growing")
    if full_warn_hours is None and full_crit_hours is None:
        return make_finding("disk_growth", OK, "%s grows %.0f B/s: full in %.1f h at that rate" % (
            target, sample["bytes_per_second"], hours), value=hours, unit="h", target=target)
    return threshold_finding("disk_growth", hours, full_warn_hours, full_crit_hours, direction="below", unit="h",
                             target=target, label="%s time to full" % target)


def run(params, sleep=time.sleep):
    """The module's work: measure every path (each mount once), the largest directories, the growth."""
    paths = params.get("paths") or ["/"]
    mounts = read_mounts()
    measured, findings, by_mount = [], [], {}
    for path in paths:
        try:
            usage = measure(path, mounts)
        except OSError as exc:
            findings.append(make_finding("disk_usage", UNKNOWN, "%s cannot be measured: %s" % (path, exc.strerror),
                                         target=path, state="missing"))
            continue
        if usage["mount"] in by_mount:
            continue
        by_mount[usage["mount"]] = usage
        measured.append(usage)
        findings.extend(usage_findings(usage, params["warn_percent"], params["crit_percent"],
                                       params["inode_warn_percent"], params["inode_crit_percent"]))
    result = {"mounts": measured, "largest": [], "growth": []}
    interval = params.get("growth_interval") or 0
    if interval > 0 and measured:
        started = time.time()
        sleep(interval)
        seconds = time.time() - started
        for usage in measured:
            again = measure(usage["path"], mounts)
            sample = growth(usage, again, seconds)
            result["growth"].append(sample)
            findings.append(growth_finding(sample, params.get("full_warn_hours"), params.get("full_crit_hours")))
    for root in params.get("largest_paths") or []:
        result["largest"].append(largest_directories(root, params.get("largest_count") or 10))
    result["findings"] = findings
    return result
