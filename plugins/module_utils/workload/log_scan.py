# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Count error patterns in logs over a time window (log_scan).

Sources: files (read from the end, at most ``max_bytes`` each), the systemd journal
(``journalctl -o json`` with a timeout), the logs of Kubernetes pods (``pod_selector`` or
``pod_workload``) and of docker compose containers (``project``, ``services``): see
:mod:`log_sources`; and the logs of workload references (``ref``, parsed by :mod:`workload.ref`).
``project`` is also the default project of compose references (it usually arrives from
``opsbook_docker`` through module_defaults), so the whole project is read only when ``services``
names some of its services or nothing else is given to read.  A line's time is the ISO-8601 or syslog timestamp at its start; a line
without one (a stack trace continuation) inherits the time of the line before it, and lines
before the first timestamp of a file are counted only when ``include_untimed`` is set.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import glob
import json
import os
import re
import subprocess

from ansible_collections.opsbook.runbooks.plugins.module_utils.workload import log_groups
from ansible_collections.opsbook.runbooks.plugins.module_utils.workload import log_sources
from ansible_collections.opsbook.runbooks.plugins.module_utils.workload import ref as workload_ref
from ansible_collections.opsbook.runbooks.plugins.module_utils.workload import systemd_backend
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.declarative_checks import finding_for
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    UNKNOWN,
    make_finding,
    overall,
)

# The patterns the seed runbooks grep for (ConectCRM, Techbra, ML Bling, ETL).
DEFAULT_PATTERNS = [
    {"name": "error", "regex": r"\bERROR\b", "warn": 10, "crit": 100},
    {"name": "warn", "regex": r"\bWARN(ING)?\b", "warn": 50, "crit": None},
    {"name": "slow", "regex": r"(?i)\b(slow|timeout|timed out|latency)\b", "warn": 5, "crit": 50},
    {"name": "eaddrinuse", "regex": r"EADDRINUSE", "warn": None, "crit": 1},
    {"name": "econnrefused", "regex": r"ECONNREFUSED|[Cc]onnection refused", "warn": 1, "crit": 10},
    {"name": "out_of_memory", "regex": r"(?i)out of memory|OOMKilled|JavaScript heap out of memory", "warn": None, "crit": 1},
    # ConectCRM MultipleFailedLogins (seed 002 §13): more than 20 in 5 minutes, a warning alert.
    {"name": "failed_login", "regex": r"(?i)failed login|authentication failed|invalid password|failed password",
     "warn": 20, "crit": None, "strict": True},
]

_ISO = re.compile(r"^\[?(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:[.,]\d+)?(Z|[+-]\d{2}:?\d{2})?")
_SYSLOG = re.compile(r"^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}:\d{2}:\d{2})")
_MONTHS = dict((m, i + 1) for i, m in enumerate(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]))


PATTERN_KEYS = ("name", "regex", "warn", "crit", "strict", "group_by", "group_warn", "group_crit")


def _count_limit(item, key, index):
    value = item.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidInput("patterns[%d] (%s): %s must be a number, got a boolean" % (index, item["name"], key))
    if isinstance(value, (int, float)):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput("patterns[%d] (%s): %s must be a number, got %r" % (index, item["name"], key, value))
    return int(number) if number.is_integer() else number


def compile_patterns(patterns):
    """Validate ``patterns`` (list of {name, regex, warn, crit[, strict, group_by, group_warn, group_crit]}) and compile them.

    ``strict`` compares with ``>`` instead of ``>=``; ``group_by`` also counts per key (see :mod:`log_groups`),
    judged against ``group_warn``/``group_crit`` (default: ``warn``/``crit``).
    """
    if not patterns:
        raise InvalidInput("patterns: at least one pattern is required")
    result = []
    seen = set()
    for index, item in enumerate(patterns):
        if not isinstance(item, dict) or not item.get("name") or not item.get("regex"):
            raise InvalidInput("patterns[%d]: name and regex are required" % index)
        if item["name"] in seen:
            raise InvalidInput("patterns[%d]: duplicate name %r" % (index, item["name"]))
        seen.add(item["name"])
        try:
            compiled = re.compile(item["regex"])
        except re.error as exc:
            raise InvalidInput("patterns[%d] (%s): regex %r is invalid: %s" % (index, item["name"], item["regex"], exc))
        unknown = sorted(set(item) - set(PATTERN_KEYS))
        if unknown:
            raise InvalidInput("patterns[%d] (%s): unknown key(s) %s; expected %s" % (
                index, item["name"], ", ".join(unknown), ", ".join(PATTERN_KEYS)))
        pattern = {"name": item["name"], "regex": compiled, "warn": _count_limit(item, "warn", index),
                   "crit": _count_limit(item, "crit", index), "strict": bool(item.get("strict")),
                   "group_by": item.get("group_by") or None}
        if pattern["group_by"]:
            pattern["group_warn"] = _count_limit(item, "group_warn", index) if "group_warn" in item else pattern["warn"]
            pattern["group_crit"] = _count_limit(item, "group_crit", index) if "group_crit" in item else pattern["crit"]
            error = log_groups.validate_group(pattern, index)
            if error:
                raise InvalidInput(error)
        result.append(pattern)
    return result


def line_time(line, now):
    """The timestamp at the start of ``line`` as an aware UTC datetime, or None."""
    match = _ISO.match(line)
    if match:
        stamp = datetime.datetime.strptime("%s %s" % (match.group(1), match.group(2)), "%Y-%m-%d %H:%M:%S")
        zone = match.group(3)
        if zone and zone != "Z":
            sign = 1 if zone[0] == "+" else -1
            digits = zone[1:].replace(":", "")
            stamp -= sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return stamp.replace(tzinfo=datetime.timezone.utc)
    match = _SYSLOG.match(line)
    if match and match.group(1) in _MONTHS:
        hms = [int(x) for x in match.group(3).split(":")]
        stamp = datetime.datetime(now.year, _MONTHS[match.group(1)], int(match.group(2)), *hms, tzinfo=datetime.timezone.utc)
        if stamp > now + datetime.timedelta(days=1):  # December lines read in January
            stamp = stamp.replace(year=now.year - 1)
        return stamp
    return None


def _tail_lines(path, max_bytes):
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        if size > max_bytes:
            handle.seek(size - max_bytes)
            handle.readline()  # drop the partial first line
        data = handle.read()
    return data.decode("utf-8", "replace").splitlines()


def _expand(paths):
    files = []
    for pattern in paths:
        matches = sorted(glob.glob(pattern))
        files.extend(m for m in matches if os.path.isfile(m))
        if not matches:
            files.append(pattern)  # reported as missing
    return files


def file_source(path, max_bytes):
    """(label, lines, error) for one file; a missing or unreadable file is an error, not an exception."""
    try:
        return path, _tail_lines(path, max_bytes), None
    except (IOError, OSError) as exc:
        return path, [], exc.strerror or str(exc)


def journal_source(units, since_minutes, timeout, directory=None, systemd=None):
    """(label, lines, error) from journalctl; lines are prefixed with their ISO timestamp.

    ``systemd``: the systemd options (``systemd_scope``, ``systemd_sudo``) as the workload module takes them.
    """
    cmd = systemd_backend.command("journalctl", systemd) + ["--no-pager", "-o", "json", "--since", "-%dmin" % max(1, int(since_minutes))]
    if directory:
        cmd += ["-D", directory]
    for unit in units or []:
        cmd += ["-u", unit]
    label = "journal" + (":" + ",".join(units) if units else "")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return label, [], str(exc)
    if proc.returncode != 0:
        return label, [], (proc.stderr.strip() or "journalctl exited with %d" % proc.returncode)
    lines = []
    for raw in proc.stdout.splitlines():
        try:
            entry = json.loads(raw)
            stamp = datetime.datetime.fromtimestamp(int(entry["__REALTIME_TIMESTAMP"]) / 1e6, datetime.timezone.utc)
            message = entry.get("MESSAGE")
        except (ValueError, KeyError, TypeError):
            continue
        if isinstance(message, list):  # journalctl emits non-UTF-8 messages as byte arrays
            message = bytes(message).decode("utf-8", "replace")
        lines.append("%s %s" % (stamp.strftime("%Y-%m-%dT%H:%M:%SZ"), message))
    return label, lines, None


def scan_lines(lines, patterns, since, now, include_untimed, counts, last, last_lines, groups=None):
    """Add matches of ``lines`` inside [since, now] to ``counts``/``last`` (and per key to ``groups``); return lines scanned."""
    current = None
    scanned = 0
    for line in lines:
        stamp = line_time(line, now)
        if stamp is not None:
            current = stamp
        if current is None:
            if not include_untimed:
                continue
        elif current < since:
            continue
        scanned += 1
        for pattern in patterns:
            match = pattern["regex"].search(line)
            if match:
                counts[pattern["name"]] += 1
                if pattern.get("group_by") and groups is not None:
                    per_key = groups.setdefault(pattern["name"], {})
                    key = log_groups.line_key(match, line, pattern["group_by"])
                    per_key[key] = per_key.get(key, 0) + 1
                bucket = last[pattern["name"]]
                bucket.append(line[:1000])
                if len(bucket) > last_lines:
                    del bucket[0]
    return scanned


def workload_sources(params):
    """The logs of the workload references in ``ref``, each with what its backend keeps (pods, containers, journal)."""
    sources = []
    for ref in workload_ref.parse_refs(params.get("ref"), "ref"):
        if ref["kind"] == "kubernetes":
            sub = dict(params, pod_workload=ref["name"], pod_selector=None,
                       namespace=ref.get("namespace") or params.get("namespace"))
            sources.extend(log_sources.pod_sources(sub, params["since_minutes"], params["max_bytes"]))
        elif ref["kind"] == "compose":
            sub = dict(params, project=ref.get("project") or params.get("project"), services=[ref["name"]],
                       docker_host=ref.get("docker_host") or params.get("docker_host"))
            if not sub["project"]:
                raise InvalidInput("ref: %s needs a compose project (project, or opsbook_docker.project)" % workload_ref.ref_label(ref))
            sources.extend(log_sources.container_sources(sub, params["since_minutes"], params.get("max_lines") or 10000))
        else:
            unit = systemd_backend.unit_name(ref["name"], params.get("systemd_unit_suffix", systemd_backend.DEFAULT_SUFFIX))
            sources.append(journal_source([unit], params["since_minutes"], params["timeout"],
                                          params.get("journal_directory"), params))
    return sources


def log_scan(params, now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if params["since_minutes"] <= 0:
        raise InvalidInput("since_minutes must be positive, got %s" % params["since_minutes"])
    pods = params.get("pod_selector") or params.get("pod_workload")
    if params.get("pod_selector") and params.get("pod_workload"):
        raise InvalidInput("pod_selector, pod_workload: give one of them, not both")
    if params.get("pod_container") and not pods:
        raise InvalidInput("pod_container: needs pod_selector or pod_workload")
    if params.get("services") and not params.get("project"):
        raise InvalidInput("services: needs project (the compose project)")
    others = params.get("paths") or params.get("journal") or pods or params.get("ref")
    if not (others or params.get("project")):
        raise InvalidInput("paths, journal, pod_selector, pod_workload, project or ref: give at least one log source")
    read_project = params.get("project") and (params.get("services") or not others)
    if params.get("max_lines", 1) < 1:
        raise InvalidInput("max_lines must be positive, got %s" % params["max_lines"])
    patterns = compile_patterns(params["patterns"] or DEFAULT_PATTERNS)
    since = now - datetime.timedelta(minutes=params["since_minutes"])
    sources = [file_source(p, params["max_bytes"]) for p in _expand(params.get("paths") or [])]
    if params.get("journal"):
        sources.append(journal_source(params.get("journal_units"), params["since_minutes"], params["timeout"],
                                      params.get("journal_directory"), params))
    if pods:
        sources.extend(log_sources.pod_sources(params, params["since_minutes"], params["max_bytes"]))
    if read_project:
        sources.extend(log_sources.container_sources(params, params["since_minutes"], params.get("max_lines") or 10000))
    sources.extend(workload_sources(params))
    counts = dict((p["name"], 0) for p in patterns)
    last = dict((p["name"], []) for p in patterns)
    groups = dict((p["name"], {}) for p in patterns if p["group_by"])
    findings = []
    source_rows = []
    for label, lines, error in sources:
        scanned = 0
        if error:
            findings.append(make_finding("log_source", UNKNOWN, "cannot read %s: %s" % (label, error), target=label))
        else:
            scanned = scan_lines(lines, patterns, since, now, params["include_untimed"], counts, last, params["last_lines"],
                                 groups)
        source_rows.append({"source": label, "lines_scanned": scanned, "error": error})
    target = ", ".join(row["source"] for row in source_rows)
    for pattern in patterns:
        check = {"name": "log_pattern_%s" % pattern["name"], "warn": pattern["warn"], "crit": pattern["crit"],
                 "direction": "above", "strict": pattern["strict"], "unit": "lines"}
        findings.append(finding_for(check, counts[pattern["name"]], target, label="%s lines matching %s in the last %s min" % (
            pattern["name"], pattern["regex"].pattern, "%g" % params["since_minutes"])))
        if pattern["group_by"]:
            findings.extend(log_groups.group_findings(pattern, groups[pattern["name"]], "%g" % params["since_minutes"], target))
    return {
        "counts": counts,
        "groups": dict((name, log_groups.top(per_key)) for name, per_key in groups.items()),
        "last_matches": last,
        "sources": source_rows,
        "window": {"since": since.strftime("%Y-%m-%dT%H:%M:%SZ"), "until": now.strftime("%Y-%m-%dT%H:%M:%SZ")},
        "findings": findings,
        "status": overall(findings),
    }
