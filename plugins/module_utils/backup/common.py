# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup library every opsbook backup module shares.

A *backup location* is a directory.  Each backup in it is a directory
``<kind>-<label>-<YYYYmmddTHHMMSSZ>`` holding its data files and a
``manifest.json`` (schema ``opsbook.backup/v1``) that lists every file with its
size and SHA-256.  A backup is written under a hidden temporary name and
published by one ``rename`` once its manifest is complete, so a crash or a
killed tool never leaves a half-written backup under a real name.

* :func:`location_lock` - one backup writer per location (``flock``).
* :class:`Staging` - temporary directory, manifest, atomic publish.
* :func:`list_backups`, :func:`verify_backup`, :func:`latest_verified` - catalogue.
* :func:`plan_retention` / :func:`apply_retention` - count/age retention that never
  removes the newest verified backup.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import re
import shutil
import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput, OpsbookError
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.lock import Locked, file_lock
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.paths import join_inside
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    CRITICAL,
    OK,
    WARNING,
    make_finding,
    threshold_finding,
)

MANIFEST = "manifest.json"
SCHEMA = "opsbook.backup/v1"
LOCK_FILE = ".opsbook-backup.lock"
STAGING_PREFIX = ".tmp-"
_NAME_RE = re.compile(r"^(?P<kind>[a-z0-9_]+)-(?P<label>[A-Za-z0-9_.]+)-(?P<stamp>\d{8}T\d{6}Z)(?:-\d+)?$")
_LABEL_RE = re.compile(r"[^A-Za-z0-9_.]+")
_CHUNK = 1024 * 1024


class BackupLocked(Locked):
    """Another backup holds the location's lock."""


class BackupError(OpsbookError):
    """A backup could not be written or read."""


def utc_stamp(epoch=None):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch if epoch is not None else time.time()))


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def safe_label(label):
    """A label usable in a directory name (``my-db`` -> ``my_db``)."""
    cleaned = _LABEL_RE.sub("_", str(label or "")).strip("_.")
    if not cleaned:
        raise InvalidInput("label: %r gives an empty backup name" % (label,))
    return cleaned


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_entries(root):
    """Every file under ``root`` except the manifest: ``[{path, size, sha256}]`` sorted by path."""
    entries = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            if rel == MANIFEST:
                continue
            entries.append({"path": rel, "size": os.path.getsize(full), "sha256": sha256_file(full)})
    return sorted(entries, key=lambda e: e["path"])


def write_atomic(path, data, mode=0o600):
    """Write bytes/text to ``path`` through a temporary file, fsync and rename."""
    if not isinstance(data, bytes):
        data = data.encode("utf-8")
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def _fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def ensure_location(location, create=True):
    if not location:
        raise InvalidInput("location: a backup directory is required")
    location = os.path.abspath(os.path.expanduser(location))
    if not os.path.isdir(location):
        if not create:
            raise InvalidInput("location: %s is not a directory" % location)
        try:
            os.makedirs(location, 0o700)
        except OSError as exc:
            raise InvalidInput("location: cannot create %s: %s" % (location, exc.strerror))
    return location


def location_lock(location, wait=0.0, poll=0.2):
    """``with location_lock(path, wait=30):`` - exclusive writer lock on a location (``common.lock.file_lock``).

    Waits up to ``wait`` seconds (0: do not wait) and then raises :class:`BackupLocked`.
    The lock is an ``flock`` on a file, so it is released when the process dies.
    """
    path = os.path.join(location, LOCK_FILE)

    def busy(holder, waited):
        pid = " (pid %s)" % holder["pid"] if holder.get("pid") else ""
        return "another backup is writing to %s%s (waited %ss; lock file %s)" % (location, pid, int(waited), path)

    return file_lock(path, wait=wait, poll=poll, busy=busy, error=BackupLocked)


class Staging(object):
    """A backup being written: a hidden directory published by :meth:`publish`.

    Use as a context manager; leaving it without publishing (an exception, a
    failed tool) removes the temporary directory, so nothing is published.
    """

    def __init__(self, location, kind, label, started=None):
        self.location = location
        self.kind = kind
        self.label = safe_label(label)
        self.started = started if started is not None else time.time()
        base = "%s-%s-%s" % (kind, self.label, utc_stamp(self.started))
        name, n = base, 1
        while os.path.exists(os.path.join(location, name)):
            n += 1
            name = "%s-%d" % (base, n)
        self.name = name
        self.final = os.path.join(location, name)
        self.path = os.path.join(location, "%s%s.%d" % (STAGING_PREFIX, name, os.getpid()))
        self.published = False

    def __enter__(self):
        os.mkdir(self.path, 0o700)
        return self

    def file(self, name):
        return os.path.join(self.path, name)

    def publish(self, details, tools=None, finished=None):
        """Checksum every file, write the manifest, rename into place; return the manifest."""
        finished = finished if finished is not None else time.time()
        files = file_entries(self.path)
        manifest = {
            "schema": SCHEMA,
            "kind": self.kind,
            "label": self.label,
            "name": self.name,
            "started": iso(self.started),
            "finished": iso(finished),
            "started_epoch": round(self.started, 3),
            "finished_epoch": round(finished, 3),
            "duration": round(finished - self.started, 3),
            "tools": tools or {},
            "files": files,
            "size": sum(f["size"] for f in files),
            "details": details,
        }
        write_atomic(self.file(MANIFEST), json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        os.rename(self.path, self.final)
        _fsync_dir(self.location)
        self.published = True
        manifest["path"] = self.final
        return manifest

    def __exit__(self, *exc):
        if not self.published:
            shutil.rmtree(self.path, ignore_errors=True)
        return False


def read_manifest(backup_dir):
    path = os.path.join(backup_dir, MANIFEST)
    try:
        with open(path) as handle:
            manifest = json.load(handle)
    except (IOError, OSError) as exc:
        raise BackupError("%s has no readable manifest: %s" % (backup_dir, exc.strerror))
    except ValueError as exc:
        raise BackupError("%s is not valid JSON: %s" % (path, exc))
    if not isinstance(manifest, dict) or manifest.get("schema") != SCHEMA:
        raise BackupError("%s is not an opsbook backup manifest (schema %s)" % (path, SCHEMA))
    manifest["path"] = os.path.abspath(backup_dir)
    return manifest


def verify_backup(backup_dir, manifest=None):
    """Re-hash every file listed in the manifest.

    Returns ``(manifest, problems)``; ``problems`` is empty for an intact backup.
    """
    manifest = manifest or read_manifest(backup_dir)
    problems = []
    listed = set()
    for entry in manifest.get("files") or []:
        listed.add(entry["path"])
        full = join_inside(backup_dir, entry["path"], "manifest files[].path")
        if not os.path.isfile(full):
            problems.append("%s is missing" % entry["path"])
            continue
        size = os.path.getsize(full)
        if size != entry["size"]:
            problems.append("%s has %d bytes, manifest says %d" % (entry["path"], size, entry["size"]))
            continue
        if sha256_file(full) != entry["sha256"]:
            problems.append("%s does not match its SHA-256 in the manifest" % entry["path"])
    extra = [e["path"] for e in file_entries(backup_dir) if e["path"] not in listed]
    problems.extend("%s is not in the manifest" % path for path in extra)
    return manifest, problems


def list_backups(location, kind=None, label=None):
    """Published backups in ``location`` (oldest first): dicts with name, path, kind, label, started_epoch.

    Entries whose manifest cannot be read are listed with ``error`` set.
    """
    if not os.path.isdir(location):
        return []
    found = []
    for name in os.listdir(location):
        full = os.path.join(location, name)
        match = _NAME_RE.match(name)
        if not match or not os.path.isdir(full):
            continue
        if kind and match.group("kind") != kind:
            continue
        if label and match.group("label") != safe_label(label):
            continue
        entry = {"name": name, "path": full, "kind": match.group("kind"), "label": match.group("label")}
        try:
            manifest = read_manifest(full)
            entry.update(started_epoch=manifest.get("started_epoch"), started=manifest.get("started"),
                         size=manifest.get("size"), manifest=manifest, error=None)
        except BackupError as exc:
            stamp = time.mktime(time.strptime(match.group("stamp"), "%Y%m%dT%H%M%SZ")) - time.timezone
            entry.update(started_epoch=stamp, started=iso(stamp), size=None, manifest=None, error=str(exc))
        found.append(entry)
    return sorted(found, key=lambda e: (e["started_epoch"] or 0, e["name"]))


def staging_leftovers(location):
    """Hidden temporary directories (a backup that died before publishing)."""
    if not os.path.isdir(location):
        return []
    return sorted(n for n in os.listdir(location) if n.startswith(STAGING_PREFIX))


def latest_verified(location, kind, label=None):
    """The newest backup of ``kind`` whose files match its manifest, or None.

    Returns ``(entry, skipped)`` where ``skipped`` lists newer backups that failed verification.
    """
    skipped = []
    for entry in reversed(list_backups(location, kind, label)):
        if entry["error"]:
            skipped.append({"name": entry["name"], "problems": [entry["error"]]})
            continue
        _manifest, problems = verify_backup(entry["path"], entry["manifest"])
        if not problems:
            return entry, skipped
        skipped.append({"name": entry["name"], "problems": problems})
    return None, skipped


def plan_retention(backups, keep_count=None, keep_days=None, now=None, verified_name=None):
    """Names to delete from ``backups`` (oldest first, as from :func:`list_backups`).

    A backup is kept when it is among the newest ``keep_count`` or younger than
    ``keep_days``; with neither set nothing is deleted.  The newest verified backup
    (``verified_name``) is always kept, and without one nothing is deleted at all.
    """
    if keep_count is None and keep_days is None:
        return []
    if keep_count is not None and keep_count < 1:
        raise InvalidInput("keep_count: must be at least 1, got %s" % keep_count)
    if keep_days is not None and keep_days < 0:
        raise InvalidInput("keep_days: must not be negative, got %s" % keep_days)
    if not verified_name:
        return []
    now = now if now is not None else time.time()
    newest_first = list(reversed(backups))
    doomed = []
    for index, entry in enumerate(newest_first):
        if entry["name"] == verified_name:
            continue
        by_count = keep_count is not None and index >= keep_count
        by_age = keep_days is not None and (now - (entry["started_epoch"] or 0)) > keep_days * 86400
        if keep_count is not None and keep_days is not None:
            expired = by_count and by_age
        else:
            expired = by_count or by_age
        if expired:
            doomed.append(entry["name"])
    return sorted(doomed)


def apply_retention(location, kind, label, keep_count=None, keep_days=None, dry_run=False, now=None):
    """Delete expired backups of one kind/label after a successful backup.

    Returns ``{deleted, kept, verified}``.  Call it only when the new backup was
    published; a failed backup must never trigger retention.
    """
    backups = list_backups(location, kind, label)
    newest, _skipped = latest_verified(location, kind, label)
    verified = newest["name"] if newest else None
    doomed = plan_retention(backups, keep_count, keep_days, now=now, verified_name=verified)
    if not dry_run:
        for name in doomed:
            shutil.rmtree(os.path.join(location, name))
    return {
        "deleted": doomed,
        "kept": [b["name"] for b in backups if b["name"] not in doomed],
        "verified": verified,
        "dry_run": bool(dry_run),
    }


def retention_argument_spec():
    """Options every backup module shares (location, lock wait, retention)."""
    return dict(
        location=dict(type="path", required=True),
        label=dict(type="str"),
        lock_wait=dict(type="float", default=0),
        keep_count=dict(type="int"),
        keep_days=dict(type="float"),
    )


def run_backup(params, kind, label, check_mode, write, tools=None):
    """The shared backup flow: lock, stage, ``write(staging) -> details``, publish, retention.

    ``write`` raises on failure; then nothing is published and retention does not run.
    Returns the module result (without findings).
    """
    if check_mode:
        location = os.path.abspath(os.path.expanduser(params["location"] or ""))
        if not params["location"]:
            raise InvalidInput("location: a backup directory is required")
        backups = list_backups(location, kind, label)
        return {"changed": True, "published": False, "location": location, "backup": None,
                "retention": {"deleted": [], "kept": [b["name"] for b in backups], "dry_run": True}}
    location = ensure_location(params["location"])
    with location_lock(location, params.get("lock_wait") or 0):
        with Staging(location, kind, label) as staging:
            details = write(staging)
            manifest = staging.publish(details, tools=tools() if callable(tools) else tools)
        retention = apply_retention(location, kind, staging.label, params.get("keep_count"), params.get("keep_days"))
    return {"changed": True, "published": True, "location": location, "backup": manifest["path"],
            "name": manifest["name"], "manifest": manifest, "retention": retention,
            "started": manifest["started_epoch"], "finished": manifest["finished_epoch"],
            "duration": manifest["duration"], "size": manifest["size"]}


def open_for_restore(params, kind, check, target, what=None):
    """The first steps every restore shares: pick the backup, check its kind, verify its files.

    Returns ``(manifest, result, findings)``.  When a file does not match the manifest,
    ``findings`` is None and ``result`` is final: nothing restored, one critical
    ``<check>`` finding (the restore refuses).  Otherwise ``findings`` starts with an ok
    ``<check>`` finding and ``result`` is to be completed by the caller.
    """
    started = time.time()
    backup_dir, skipped = resolve_backup(params, kind)
    manifest, problems = verify_backup(backup_dir)
    if manifest.get("kind") != kind:
        raise InvalidInput("backup: %s is a %s backup, not a %s one%s" % (
            backup_dir, manifest.get("kind"), kind, (" (%s)" % what) if what else ""))
    result = {"changed": False, "backup": backup_dir, "target": target, "skipped_backups": skipped,
              "backup_started": manifest.get("started_epoch"), "restored": False, "verified": False, "problems": problems, "started": round(started, 3)}
    if problems:
        result["findings"] = [make_finding(check, CRITICAL, "refusing to restore %s: %s" % (
            manifest["name"], "; ".join(problems[:5])), value=len(problems), target=backup_dir)]
        return manifest, finish_timing(result), None
    findings = [make_finding(check, OK, "%s: %d files match the manifest's SHA-256" % (
        manifest["name"], len(manifest["files"])), value=0, target=backup_dir)]
    return manifest, result, findings


def finish_timing(result):
    """Set ``finished`` and ``duration`` from ``result['started']`` (epoch seconds)."""
    finished = time.time()
    result["finished"] = round(finished, 3)
    result["duration"] = round(finished - result["started"], 3)
    return result


def resolve_backup(params, kind):
    """The backup directory a restore uses: ``backup`` given, or the newest verified in ``location``."""
    if params.get("backup"):
        path = os.path.abspath(os.path.expanduser(params["backup"]))
        if not os.path.isdir(path):
            raise InvalidInput("backup: %s is not a directory" % path)
        return path, []
    if not params.get("location"):
        raise InvalidInput("backup: give a backup directory, or location (and label) to use the newest verified one")
    location = ensure_location(params["location"], create=False)
    entry, skipped = latest_verified(location, kind, params.get("label"))
    if entry is None:
        raise BackupError("no verified %s backup%s in %s%s" % (
            kind, (" labelled %s" % params["label"]) if params.get("label") else "", location,
            ("; skipped: %s" % "; ".join("%s (%s)" % (s["name"], s["problems"][0]) for s in skipped)) if skipped else ""))
    return entry["path"], skipped


def catalog(location, kind=None, label=None, verify=True, max_age_hours=None, now=None):
    """What is in a backup location (the seed's ``restore.sh --list`` / ``verify_backup.sh``).

    Returns ``{backups, groups, leftovers, findings}``: every backup with its size, age and
    verification; per kind/label the newest verified one and its age; findings for
    corrupt backups (critical), missing or too old newest verified backups, and
    temporary directories left by a backup that died.
    """
    if not location:
        raise InvalidInput("location: a backup directory is required")
    location = os.path.abspath(os.path.expanduser(location))
    now = now if now is not None else time.time()
    backups, groups, findings = [], {}, []
    for entry in list_backups(location, kind, label):
        problems = [entry["error"]] if entry["error"] else []
        if verify and not problems:
            problems = verify_backup(entry["path"], entry["manifest"])[1]
        row = {"name": entry["name"], "path": entry["path"], "kind": entry["kind"], "label": entry["label"],
               "started": entry["started"], "size": entry["size"],
               "age_hours": round((now - (entry["started_epoch"] or now)) / 3600.0, 3),
               "verified": (not problems) if verify else None, "problems": problems}
        backups.append(row)
        key = "%s/%s" % (entry["kind"], entry["label"])
        group = groups.setdefault(key, {"kind": entry["kind"], "label": entry["label"], "count": 0,
                                        "latest": None, "latest_verified": None, "age_hours": None})
        group["count"] += 1
        group["latest"] = entry["name"]
        if not problems:
            group["latest_verified"] = entry["name"]
            group["age_hours"] = row["age_hours"]
        if problems:
            findings.append(make_finding("backup_integrity", CRITICAL, "%s is damaged: %s" % (
                entry["name"], "; ".join(problems[:3])), value=len(problems), target=entry["path"]))
    for key, group in sorted(groups.items()):
        if group["latest_verified"] is None:
            findings.append(make_finding("backup_latest_age", CRITICAL, "%s has no verified backup in %s" % (key, location),
                                         target=location))
        elif max_age_hours:
            findings.append(threshold_finding("backup_latest_age", group["age_hours"], warn=max_age_hours,
                                              unit="h", target="%s:%s" % (location, group["latest_verified"]),
                                              label="age of the newest verified %s backup" % key))
    leftovers = staging_leftovers(location)
    if leftovers:
        findings.append(make_finding("backup_leftovers", WARNING, "%d temporary backup director%s left by a backup "
                                     "that did not finish: %s" % (len(leftovers), "y" if len(leftovers) == 1 else "ies",
                                                                  ", ".join(leftovers[:5])),
                                     value=len(leftovers), target=location))
    if not backups:
        findings.append(make_finding("backup_catalog", WARNING, "no backups in %s%s" % (
            location, "" if os.path.isdir(location) else " (the directory does not exist)"), value=0, target=location))
    elif not findings or all(f["status"] == OK for f in findings):
        findings.append(make_finding("backup_catalog", OK, "%d backups in %s, all verified" % (len(backups), location)
                                     if verify else "%d backups in %s" % (len(backups), location),
                                     value=len(backups), target=location))
    return {"location": location, "backups": backups, "groups": groups, "leftovers": leftovers, "findings": findings}
