# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Times as the reports and alerts carry them: UNIX seconds or ISO 8601 (``2026-01-02T03:04:05Z``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re
import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.common import findings as fv

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 60}


def epoch(value, what=None):
    """Seconds since the epoch of a UNIX time (number or text) or an ISO 8601 time (UTC when naive)."""
    if isinstance(value, bool):
        raise InvalidInput(_not_a_time(value, what))
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    # Alertmanager writes nanoseconds (2026-01-02T03:04:05.123456789Z); Python reads up to microseconds
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    try:
        stamp = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(_not_a_time(value, what))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=datetime.timezone.utc)
    return stamp.timestamp()


def _not_a_time(value, what):
    return "%s%r is neither a UNIX time nor an ISO 8601 time" % ("%s: " % what if what else "", value)


def iso(seconds):
    """``2026-01-02T03:04:05Z`` (UTC) of seconds since the epoch."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def duration_seconds(value, what="duration"):
    """Seconds of ``90s``, ``15m``, ``2h``, ``1d`` or a bare number of minutes."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) * 60
    match = _DURATION_RE.match(str(value or ""))
    if not match:
        raise InvalidInput("%s: %r is not a duration like 30m, 2h or 90s" % (what, value))
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def minutes_finding(check, start, end, target_minutes, target, label, phase="verify"):
    """Minutes from ``start`` to ``end`` against a "< N minutes" target: critical at or above it.

    ``state: measured``: a measure of the response for the report and the post-mortem, no verdict.
    """
    minutes = round(max(0.0, epoch(end) - epoch(start)) / 60.0, 2)
    finding = fv.threshold_finding(check, minutes, None, float(target_minutes), unit="minutes", target=target,
                                   label=label)
    return dict(finding, state=fv.MEASURED, phase=phase)
