# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kafka filters: parse ``kafka-consumer-groups --describe`` text, evaluate its lag."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import lag as kafka_lag
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import FindingError


def kafka_consumer_groups(text, group=None):
    """``{{ describe.stdout | opsbook.runbooks.kafka_consumer_groups }}``"""
    try:
        return kafka_lag.parse_describe_text(text, group)
    except InvalidInput as exc:
        raise AnsibleFilterError("kafka_consumer_groups: %s" % exc)


def kafka_lag_findings(groups, lag_crit=1000, lag_warn=None):
    """The static-threshold findings of kafka_consumer_lag for parsed (or module) groups."""
    try:
        return [kafka_lag.lag_finding(g, lag_warn, lag_crit) for g in groups if g.get("found", True)]
    except (KeyError, TypeError, FindingError) as exc:
        raise AnsibleFilterError("kafka_lag_findings: expected groups as kafka_consumer_groups returns them (%s)" % exc)


class FilterModule(object):
    def filters(self):
        return {
            "kafka_consumer_groups": kafka_consumer_groups,
            "kafka_lag_findings": kafka_lag_findings,
        }
