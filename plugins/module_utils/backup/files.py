# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backups of files and directories (the ETL seed's weekly ``tar -czf /backup/etl-config-*.tar.gz /etc/etl``).

The archive ``files.tar.gz`` holds the given paths under their absolute names
without the leading ``/``; the manifest lists every regular file in it with
size and SHA-256, so a restore (extraction into an empty directory) can be
verified file by file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import hashlib
import os
import tarfile

from ansible_collections.opsbook.runbooks.plugins.module_utils.backup import common as backup_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.paths import join_inside
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    CRITICAL,
    OK,
    make_finding,
)

KIND = "files"
ARCHIVE = "files.tar.gz"


def backup_argument_spec():
    spec = backup_common.retention_argument_spec()
    spec.update(
        paths=dict(type="list", elements="path", required=True),
        exclude=dict(type="list", elements="str", default=[]),
    )
    return spec


def restore_argument_spec():
    return dict(
        backup=dict(type="path"),
        location=dict(type="path"),
        label=dict(type="str"),
        dest=dict(type="path", required=True),
        verify=dict(type="bool", default=True),
    )


def _arcname(path):
    return os.path.abspath(path).lstrip("/")


def _digest_stream(handle):
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: handle.read(1024 * 1024), b""):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def backup(params, check_mode=False):
    paths = [os.path.abspath(os.path.expanduser(p)) for p in params["paths"] or []]
    if not paths:
        raise InvalidInput("paths: give at least one file or directory")
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        raise InvalidInput("paths: %s does not exist" % ", ".join(missing))
    location = os.path.abspath(os.path.expanduser(params["location"]))
    inside = [p for p in paths if location == p or location.startswith(p.rstrip("/") + "/")]
    if inside:
        raise InvalidInput("location: %s is inside the backed-up path %s" % (location, inside[0]))
    label = params.get("label") or "files"
    excluded = params.get("exclude") or []

    def keep(info):
        name = os.path.basename(info.name)
        if any(fnmatch.fnmatch(name, pattern) for pattern in excluded):
            return None
        return info

    if check_mode:
        result = backup_common.run_backup(params, KIND, label, True, None)
        result["findings"] = [make_finding("files_backup", OK, "would archive %s into %s" % (
            ", ".join(paths), result["location"]), target=", ".join(paths))]
        return result

    def write(staging):
        archive = staging.file(ARCHIVE)
        with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
            for path in paths:
                tar.add(path, arcname=_arcname(path), filter=keep)
        entries = []
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.isfile():
                    digest, size = _digest_stream(tar.extractfile(member))
                    entries.append({"path": member.name, "size": size, "sha256": digest})
        return {"paths": paths, "exclude": excluded, "archive": ARCHIVE, "file_count": len(entries),
                "bytes": sum(e["size"] for e in entries), "contents": entries}

    result = backup_common.run_backup(params, KIND, label, False, write)
    details = result["manifest"]["details"]
    result["findings"] = [make_finding("files_backup", OK, "archived %d files (%d bytes) of %s in %.1fs to %s" % (
        details["file_count"], details["bytes"], ", ".join(paths), result["duration"], result["backup"]),
        value=details["file_count"], target=", ".join(paths))]
    return result


def restore(params, check_mode=False):
    """Extract a files backup into an empty ``dest`` and verify every file's SHA-256."""
    dest = os.path.abspath(os.path.expanduser(params["dest"]))
    if os.path.exists(dest) and (not os.path.isdir(dest) or os.listdir(dest)):
        raise InvalidInput("dest: %s must be an empty or new directory (nothing is overwritten)" % dest)
    manifest, result, findings = backup_common.open_for_restore(params, KIND, "files_backup_integrity", dest)
    result["dest"] = dest
    if findings is None:
        return result
    details = manifest["details"]
    if check_mode:
        result["changed"] = True
        findings.append(make_finding("files_restore", OK, "would extract %d files into %s" % (
            details["file_count"], dest), value=details["file_count"], target=dest))
        result["findings"] = findings
        return backup_common.finish_timing(result)
    if not os.path.isdir(dest):
        os.makedirs(dest, 0o700)
    with tarfile.open(os.path.join(result["backup"], details["archive"]), "r:gz") as tar:
        for member in tar.getmembers():
            join_inside(dest, member.name, "backup %s member" % result["backup"])
            if member.issym() or member.islnk() or member.isdev():
                raise InvalidInput("backup: %s holds an unsafe member %r" % (result["backup"], member.name))
        tar.extractall(dest)  # members checked above: no absolute paths, links or devices
    result.update(changed=True, restored=True)
    if params["verify"]:
        mismatches = []
        for entry in details["contents"]:
            path = join_inside(dest, entry["path"], "manifest contents[].path")
            if not os.path.isfile(path):
                mismatches.append("%s is missing" % entry["path"])
            elif backup_common.sha256_file(path) != entry["sha256"]:
                mismatches.append("%s differs from the backup" % entry["path"])
        result.update(problems=mismatches, verified=not mismatches)
        findings.append(make_finding(
            "files_restore_verified", CRITICAL if mismatches else OK,
            ("%s differs from backup %s: %s" % (dest, manifest["name"], "; ".join(mismatches[:5]))) if mismatches
            else "%d files in %s match backup %s" % (len(details["contents"]), dest, manifest["name"]),
            value=len(mismatches), target=dest, phase="verify"))
    result["findings"] = findings
    return backup_common.finish_timing(result)
