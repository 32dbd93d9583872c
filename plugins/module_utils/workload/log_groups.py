# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Matching log lines counted per key - the source IP of failed logins (log_scan's ``group_by``).

A pattern with ``group_by`` counts its lines per key as well as in total: the key is the regex's
named group of that name when it has one (``(?P<user>\\S+)``); for ``group_by: ip`` without such a
group it is the address after ``from``/``rhost=``/``ip=``/``client_ip=``/``remote_addr=`` (sshd,
PAM, JSON and key=value application logs), else the first IPv4 address of the line, each checked
with :mod:`ipaddress`. A matching line without a key counts under ``(none)``.

Each key is judged against ``group_warn``/``group_crit`` (``strict``: ``>`` as the runbooks word
it, ConectCRM's "mais de 20"): one finding per key over a threshold, or one V(ok) finding naming
the busiest key when none is.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.declarative_checks import finding_for
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import OK

NO_KEY = "(none)"
MAX_GROUPS = 50  # keys per pattern in the result (the busiest); findings name every key over a threshold

_ANCHORED_IP = re.compile(
    r"""(?:\bfrom|\brhost=|\baddr=|\b(?:client_?|remote_?|source_?|src_?)?ip["']?\s*[:=]|\bremote_addr["']?\s*[:=])"""
    r"""\s*["'\[]?([0-9A-Fa-f:.]{2,45})""", re.IGNORECASE)
_IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")


def _address(text):
    text = text.rstrip(".:")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return str(getattr(address, "ipv4_mapped", None) or address)  # ::ffff:192.0.2.1 (a dual-stack socket) is 192.0.2.1


def source_ip(line):
    """The client address a log line names, or None."""
    for match in _ANCHORED_IP.finditer(line):
        address = _address(match.group(1))
        if address:
            return address
    for match in _IPV4.finditer(line):
        address = _address(match.group(1))
        if address:
            return address
    return None


def line_key(match, line, group_by):
    """The key of a matching line: the regex's named group ``group_by``, else (``ip``) the line's address."""
    if group_by in match.re.groupindex:
        value = match.group(group_by)
        return value if value else NO_KEY
    if group_by == "ip":
        return source_ip(line) or NO_KEY
    return NO_KEY


def validate_group(pattern, index):
    """An error text for a bad ``group_by`` of a compiled pattern, or None."""
    group_by = pattern.get("group_by")
    if group_by and group_by != "ip" and group_by not in pattern["regex"].groupindex:
        return "patterns[%d] (%s): group_by %r needs a named group (?P<%s>...) in the regex, or group_by: ip" % (
            index, pattern["name"], group_by, group_by)
    return None


def top(counts, limit=MAX_GROUPS):
    """The ``limit`` busiest keys of ``counts`` as a dict, busiest first (ties by key)."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return dict(ranked[:limit])


def group_findings(pattern, counts, since_minutes, sources):
    """Findings of one grouped pattern: every key over its thresholds, or one ok naming the busiest key."""
    group_by = pattern["group_by"]
    check = {"name": "log_pattern_%s_by_%s" % (pattern["name"], group_by), "warn": pattern["group_warn"],
             "crit": pattern["group_crit"], "direction": "above", "strict": pattern["strict"], "unit": "lines"}
    findings = []
    for key, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        label = "%s lines from %s %s in the last %s min" % (pattern["name"], group_by, key, since_minutes)
        finding = finding_for(check, count, key, label=label)
        if finding["status"] != OK:
            findings.append(finding)
    if findings:
        return findings
    busiest = top(counts, 1)
    if busiest:
        key, count = list(busiest.items())[0]
        label = "%s lines per %s in the last %s min (most: %s)" % (pattern["name"], group_by, since_minutes, key)
    else:
        count = 0
        label = "%s lines per %s in the last %s min" % (pattern["name"], group_by, since_minutes)
    return [finding_for(check, count, sources, label=label)]
