# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Delete old files by age and name pattern, only under allow-listed roots, and vacuum the journal.

A rule ``{path, patterns, age_days, recurse}`` selects the regular files under ``path`` whose name matches
one of ``patterns`` (shell globs on the file name) and whose modification time is more than ``age_days``
days ago (ConectCRM "Remover logs > 7 dias": older than 7 * 86400 s; ``find -mtime +7`` counts whole days
and keeps files up to 8 days old).

Safety:

- a rule path with a ``..`` component is refused; paths are resolved (``realpath``) before they are compared;
- a rule whose resolved path is not under one of ``roots`` runs only if ``confirm`` names it, otherwise it
  gives a ``not_confirmed`` finding and deletes nothing;
- symlinks are never followed (neither to files nor to directories) and never deleted; other file systems
  below a rule's path are not entered; before each deletion the file's directory is resolved again and must
  still be under the rule's path;
- only regular files are deleted, directories are left in place.

Bytes freed: ``bytes`` is the sum of the apparent sizes (``du -b``) of the files deleted,
``freed_bytes`` counts only the files whose last link went (a hard link elsewhere keeps the data), and
``freed_disk_bytes`` their allocated blocks. A deleted file some process still holds open frees its
space only when that process closes it (``lsof +L1`` shows them).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import glob
import os
import stat
import subprocess
import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.paths import within
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    OK,
    WARNING,
    CRITICAL,
    make_action,
    make_finding,
)

DAY = 86400.0
JOURNAL_DIRS = ("/var/log/journal", "/run/log/journal")
NOT_APPLICABLE = "not_applicable"


def _absolute(path, option):
    if not isinstance(path, str) or not path.startswith("/"):
        raise InvalidInput("%s: expected an absolute path, got %r" % (option, path))
    if ".." in path.split("/"):
        raise InvalidInput("%s: %r has a '..' component; name the directory itself" % (option, path))
    return os.path.realpath(path)


def normalise_rule(rule):
    if not isinstance(rule, dict) or not rule.get("path"):
        raise InvalidInput("rules: each rule must be a dictionary with a path, got %r" % (rule,))
    unknown = set(rule) - {"path", "patterns", "age_days", "recurse"}
    if unknown:
        raise InvalidInput("rules: unknown key(s) %s in the rule for %s (expected path, patterns, age_days, recurse)" % (
            ", ".join(sorted(unknown)), rule["path"]))
    patterns = rule.get("patterns") or ["*.log"]
    if isinstance(patterns, str):
        patterns = [patterns]
    try:
        age = float(rule.get("age_days", 0))
    except (TypeError, ValueError):
        raise InvalidInput("rules: age_days of %s must be a number of days, got %r" % (rule["path"], rule.get("age_days")))
    if age < 0:
        raise InvalidInput("rules: age_days of %s must not be negative" % rule["path"])
    return {"path": rule["path"], "patterns": list(patterns), "age_days": age, "recurse": bool(rule.get("recurse", True))}


def candidates(rule, now):
    """``(files, skipped)`` a rule selects: files ``[{path, bytes, disk_bytes, mtime, age_days, last_link}]``."""
    top = _absolute(rule["path"], "rules")
    cutoff = now - rule["age_days"] * DAY
    files, skipped = [], []
    try:
        top_st = os.lstat(top)
    except OSError as exc:
        return files, [{"path": rule["path"], "reason": exc.strerror or "missing"}]
    if not stat.S_ISDIR(top_st.st_mode):
        return files, [{"path": rule["path"], "reason": "not a directory"}]
    for dirpath, dirnames, filenames in os.walk(top, topdown=True, followlinks=False):
        entries = []
        for name in dirnames:
            full = os.path.join(dirpath, name)
            try:
                st = os.lstat(full)
            except OSError:
                continue
            if st.st_dev != top_st.st_dev:
                skipped.append({"path": full, "reason": "another file system"})
            elif rule["recurse"]:
                entries.append(name)
        dirnames[:] = sorted(entries)
        for name in sorted(filenames):
            if not any(fnmatch.fnmatchcase(name, p) for p in rule["patterns"]):
                continue
            full = os.path.join(dirpath, name)
            try:
                st = os.lstat(full)
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode):
                skipped.append({"path": full, "reason": "symlink (not followed, not deleted)"})
                continue
            if not stat.S_ISREG(st.st_mode) or st.st_mtime >= cutoff:
                continue
            files.append({"path": full, "bytes": st.st_size, "disk_bytes": st.st_blocks * 512, "mtime": st.st_mtime,
                          "age_days": round((now - st.st_mtime) / DAY, 2), "last_link": st.st_nlink == 1,
                          "inode": [st.st_dev, st.st_ino]})
    return files, skipped


def _delete(entry, top):
    """Delete one selected file unless it changed; returns the reason it was kept, or None."""
    parent = os.path.realpath(os.path.dirname(entry["path"]))
    if not within(parent, top) or parent != os.path.dirname(entry["path"]):
        return "its directory now resolves outside %s" % top
    try:
        st = os.lstat(entry["path"])
    except OSError as exc:
        return exc.strerror or "gone"
    if not stat.S_ISREG(st.st_mode) or [st.st_dev, st.st_ino] != entry["inode"]:
        return "replaced since it was selected"
    entry["last_link"] = st.st_nlink == 1
    entry["bytes"], entry["disk_bytes"] = st.st_size, st.st_blocks * 512
    try:
        os.unlink(entry["path"])
    except OSError as exc:
        return exc.strerror or "cannot be deleted"
    return None


def _public(entry):
    return dict((k, v) for k, v in entry.items() if k != "inode")


def totals(files):
    return {
        "count": len(files),
        "bytes": sum(f["bytes"] for f in files),
        "freed_bytes": sum(f["bytes"] for f in files if f["last_link"]),
        "freed_disk_bytes": sum(f["disk_bytes"] for f in files if f["last_link"]),
    }


def clean_rule(rule, roots, confirm, check_mode, now):
    """Run one rule: ``{rule, allowed, files, kept, skipped, totals, findings, actions}``."""
    rule = normalise_rule(rule)
    top = _absolute(rule["path"], "rules")
    allowed = any(within(top, root) for root in roots)
    confirmed = rule["path"] in confirm or top in confirm
    result = {"path": rule["path"], "resolved": top, "patterns": rule["patterns"], "age_days": rule["age_days"],
              "under_roots": allowed, "files": [], "kept": [], "skipped": [], "findings": [], "actions": []}
    if not allowed and not confirmed:
        result["totals"] = totals([])
        result["findings"].append(make_finding(
            "file_cleanup", WARNING, "not confirmed, not run: %s is outside the allowed roots (%s); pass --confirm %s "
            "to allow deleting its files" % (rule["path"], ", ".join(roots) or "none", rule["path"]),
            target=rule["path"], state="not_confirmed"))
        return result
    selected, result["skipped"] = candidates(rule, now)
    done = []
    for entry in selected:
        if check_mode:
            done.append(entry)
            continue
        reason = _delete(entry, top)
        if reason:
            result["kept"].append({"path": entry["path"], "reason": reason})
        else:
            done.append(entry)
    result["files"] = [_public(f) for f in done]
    result["totals"] = sum_up = totals(done)
    verb = "would delete" if check_mode else "deleted"
    detail = "%s %d file(s) older than %g days matching %s under %s: %d bytes (%d freed)" % (
        verb, sum_up["count"], rule["age_days"], ", ".join(rule["patterns"]), rule["path"], sum_up["bytes"],
        sum_up["freed_bytes"])
    result["actions"].append(make_action("delete_old_files", rule["path"], bool(done) and not check_mode, check_mode, detail))
    status = CRITICAL if result["kept"] else OK
    message = detail if not result["kept"] else "%s; %d file(s) kept: %s" % (
        detail, len(result["kept"]), "; ".join("%s (%s)" % (k["path"], k["reason"]) for k in result["kept"][:5]))
    result["findings"].append(make_finding("file_cleanup", status, message, value=sum_up["freed_bytes"], unit="bytes",
                                           target=rule["path"], phase="remediate"))
    return result


def journal_files(directories):
    found = []
    for directory in directories:
        found.extend(glob.glob(os.path.join(directory, "*.journal")) + glob.glob(os.path.join(directory, "*", "*.journal")))
    return sorted(found)


def journal_bytes(files):
    total = 0
    for path in files:
        try:
            total += os.lstat(path).st_size
        except OSError:
            pass
    return total


def journal_command(vacuum_time, vacuum_size, directory=None):
    cmd = ["journalctl"]
    if directory:
        cmd.append("--directory=%s" % directory)
    if vacuum_time:
        cmd.append("--vacuum-time=%s" % vacuum_time)
    if vacuum_size:
        cmd.append("--vacuum-size=%s" % vacuum_size)
    return cmd


def journal_vacuum(vacuum_time, vacuum_size, directory, check_mode, timeout=120, runner=subprocess.run):
    """``journalctl --vacuum-time/--vacuum-size`` where a journal exists, else a ``not_applicable`` finding."""
    directories = [directory] if directory else list(JOURNAL_DIRS)
    before_files = journal_files(directories)
    target = directory or "systemd journal"
    cmd = journal_command(vacuum_time, vacuum_size, directory)
    result = {"command": cmd, "files_before": len(before_files), "bytes_before": journal_bytes(before_files),
              "findings": [], "actions": []}
    if not before_files:
        result["findings"].append(make_finding(
            "journal_vacuum", OK, "no systemd journal files in %s: nothing to vacuum" % ", ".join(directories),
            target=target, state=NOT_APPLICABLE, phase="remediate"))
        return result
    if check_mode:
        result["actions"].append(make_action("journal_vacuum", target, False, True, "would run: %s" % " ".join(cmd)))
        return result
    try:
        proc = runner(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        result["findings"].append(make_finding("journal_vacuum", CRITICAL, "%s failed: %s" % (" ".join(cmd), exc),
                                               target=target, state="failed", phase="remediate"))
        return result
    after = journal_files(directories)
    result["bytes_after"] = journal_bytes(after)
    result["freed_bytes"] = result["bytes_before"] - result["bytes_after"]
    if proc.returncode != 0:
        result["findings"].append(make_finding(
            "journal_vacuum", CRITICAL, "%s exited %d: %s" % (" ".join(cmd), proc.returncode, (proc.stderr or "").strip()[-300:]),
            target=target, state="failed", phase="remediate"))
        return result
    result["actions"].append(make_action("journal_vacuum", target, result["freed_bytes"] > 0, False, "%s: freed %d bytes" % (
        " ".join(cmd), result["freed_bytes"])))
    return result


def run(params, check_mode, now=None):
    now = time.time() if now is None else now
    roots = [_absolute(root, "roots") for root in params.get("roots") or []]
    confirm = set(params.get("confirm") or [])
    result = {"rules": [], "findings": [], "actions": []}
    for rule in params.get("rules") or []:
        done = clean_rule(rule, roots, confirm, check_mode, now)
        result["findings"].extend(done.pop("findings"))
        result["actions"].extend(done.pop("actions"))
        result["rules"].append(done)
    if params.get("journal_vacuum_time") or params.get("journal_vacuum_size"):
        journal = journal_vacuum(params.get("journal_vacuum_time"), params.get("journal_vacuum_size"),
                                 params.get("journal_directory"), check_mode)
        result["findings"].extend(journal.pop("findings"))
        result["actions"].extend(journal.pop("actions"))
        result["journal"] = journal
    result["totals"] = dict((key, sum(r["totals"][key] for r in result["rules"]))
                            for key in ("count", "bytes", "freed_bytes", "freed_disk_bytes"))
    result["changed"] = any(a["changed"] for a in result["actions"])
    return result
