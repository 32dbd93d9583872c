# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that let roles name workloads in inventory and act on them with the workload module.

A *workload reference* is what an inventory writes for a role variable such as
``queue_backlog_workers``: a string (``worker``, ``deployment/worker``, ``statefulset/kafka``,
``systemd/etl-service``, ``compose/backend``) or a dict (``{kind, name, resource, namespace,
project, docker_host, replicas}``), parsed by :mod:`module_utils.workload.ref`, the same code the
workload and log_scan modules run on their ``ref`` option.  ``workload_refs`` checks a role's
references early (one message naming the role variable) and adds a display ``label``; the dicts
go to the modules' ``ref`` unchanged, which take what a reference does not say (namespace,
project, Docker engine, systemd scope) from their module_defaults, i.e. the inventory's
``opsbook_kubernetes``, ``opsbook_docker`` and ``opsbook_systemd``.  ``workload_skipped`` is the
finding a role reports when a remediation step has no workload configured.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import WARNING, make_finding
from ansible_collections.opsbook.runbooks.plugins.module_utils.workload.ref import parse_refs, ref_label


def workload_refs(value, option="workload"):
    """A reference, a list of them, or nothing (``""``, ``{}``, ``[]``, null) as a list of parsed references with ``label``."""
    try:
        refs = parse_refs(value, option)
    except InvalidInput as exc:
        raise AnsibleFilterError(str(exc))
    for ref in refs:
        ref["label"] = ref_label(ref)
    return refs


def workload_ref(value, option="workload"):
    """One reference (parsed, with ``label``); nothing configured gives ``{}``."""
    if isinstance(value, list):
        raise AnsibleFilterError("%s: expected one workload reference, got a list" % option)
    refs = workload_refs(value, option)
    return refs[0] if refs else {}


def workload_skipped(step, check, variable, target=None):
    """``[finding]``: ``step`` was skipped because no workload is configured in ``variable``."""
    return [make_finding(check, WARNING, "skipped: %s - no workload configured (set %s in the inventory)" % (step, variable),
                         target=target)]


class FilterModule(object):
    def filters(self):
        return {"workload_refs": workload_refs, "workload_ref": workload_ref, "workload_skipped": workload_skipped}
