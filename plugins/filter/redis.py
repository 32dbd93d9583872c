# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for sites that can only exec ``redis-cli INFO``: parse the text, judge it.

``{{ info_text | opsbook.runbooks.redis_info }}`` gives the same dict as redis-py's
``client.info()``; ``{{ info | opsbook.runbooks.redis_findings }}`` gives the same
data and findings as the ``redis_health`` module (without PING, SLOWLOG and LATENCY).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.opsbook.runbooks.plugins.module_utils.redis import diagnostics as redis_diagnostics
from ansible_collections.opsbook.runbooks.plugins.module_utils.redis import info as redis_info
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import FindingError


def redis_info_filter(text, sections=False):
    """``{{ out.stdout | opsbook.runbooks.redis_info }}`` -> dict of INFO fields."""
    try:
        return redis_info.parse_info(text, sections=sections)
    except ValueError as exc:
        raise AnsibleFilterError("redis_info: %s" % exc)


def redis_findings(info, before=None, elapsed=None, target=None, **thresholds):
    """Data and findings for a parsed (or raw) INFO; ``before``/``elapsed`` give the sample window.

    Thresholds are the ``redis_health`` module's options, e.g. ``hit_rate_warn_pct=90``.
    """
    try:
        if not isinstance(info, dict):
            info = redis_info.parse_info(info)
        if before is not None and not isinstance(before, dict):
            before = redis_info.parse_info(before)
        unknown = sorted(set(thresholds) - set(redis_diagnostics.DEFAULT_THRESHOLDS))
        if unknown:
            raise ValueError("unknown threshold(s) %s; expected some of %s"
                             % (", ".join(unknown), ", ".join(sorted(redis_diagnostics.DEFAULT_THRESHOLDS))))
        return redis_diagnostics.evaluate(info, thresholds, target=target, before=before, elapsed=elapsed)
    except (ValueError, FindingError) as exc:
        raise AnsibleFilterError("redis_findings: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {
            "redis_info": redis_info_filter,
            "redis_findings": redis_findings,
        }
