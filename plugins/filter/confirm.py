# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One confirmation for every destructive step.

The CLI passes ``opsbook_confirm`` (the targets given with ``--confirm TARGET``, a list of
strings) and ``opsbook_confirm_all`` (``--yes``: every target the plan names).  A role asks
``{{ target | opsbook.runbooks.confirmed(opsbook_confirm | default([]), opsbook_confirm_all | default(false)) }}``
before a destructive step and, when the answer is no, reports
``{{ target | opsbook.runbooks.not_confirmed('check_name', 'purge the queue') }}`` instead of running it.
``confirmation_findings`` does both for a set of targets and, in check mode, lists what each
confirmation would allow.

Targets are what an SRE recognises: the queue name, the database name, the workload name
(``namespace/name`` for Kubernetes), the namespace of a Kubernetes config restore.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.module_utils.six import string_types
from ansible.module_utils.six.moves import shlex_quote

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import OK, WARNING, make_finding

NOT_CONFIRMED = "not_confirmed"
CONFIRMED = "confirmed"


def _targets(value, what):
    if value is None:
        return []
    if isinstance(value, string_types):
        return [value]
    if isinstance(value, (list, tuple)):
        for item in value:
            if not isinstance(item, string_types):
                raise AnsibleFilterError("%s: expected strings, got %s %r" % (what, type(item).__name__, item))
        return list(value)
    raise AnsibleFilterError("%s: expected a string or a list of strings, got %s" % (what, type(value).__name__))


def confirm_option(target):
    """The exact CLI option that confirms ``target`` (shell-quoted when it needs it)."""
    return "--confirm %s" % shlex_quote(target)


def confirmed(target, confirm=None, confirm_all=False):
    """Whether ``target`` (a string, or a list of strings: all of them) is confirmed.

    ``confirm``: the confirmed targets (``opsbook_confirm``, a string is one target);
    ``confirm_all``: ``opsbook_confirm_all`` (``--yes``). An empty target is never confirmed.
    """
    targets = _targets(target, "confirmed: the target")
    allowed = set(_targets(confirm, "confirmed: confirm"))
    everything = _bool(confirm_all if confirm_all is not None else False, "confirmed: confirm_all")
    return bool(targets) and all(t and (everything or t in allowed) for t in targets)


def not_confirmed(target, check, allows, check_mode=False):
    """The finding of a destructive step refused (or, in check mode, not planned) for lack of confirmation.

    ``allows``: the step in words (``purge queue sync_queue``). A V(warning), C(state) V(not_confirmed),
    whose message names the exact option, e.g. ``pass --confirm sync_queue to allow it``.
    """
    if not isinstance(target, string_types) or not target:
        raise AnsibleFilterError("not_confirmed: the target must be a non-empty string, got %r" % (target,))
    if _bool(check_mode, "check_mode"):
        message = "check mode: pass %s to allow: %s" % (confirm_option(target), allows)
    else:
        message = "not confirmed, not run: %s; pass %s to allow it (or --yes for every target)" % (
            allows, confirm_option(target))
    return make_finding(check, WARNING, message, target=target, state=NOT_CONFIRMED)


def confirmation_findings(targets, check, confirm=None, confirm_all=False, check_mode=False):
    """Findings for a destructive step's targets: ``targets`` maps each target to what it allows, in words.

    A target not confirmed gets the refusal finding (L(not_confirmed)); in check mode a confirmed one
    gets a V(ok) finding, C(state) V(confirmed), saying what its confirmation allows. Outside check mode
    confirmed targets get none (the step itself reports what it did).
    """
    if isinstance(targets, (list, tuple)):
        items = []
        for item in targets:
            if not isinstance(item, dict) or "target" not in item:
                raise AnsibleFilterError("confirmation_findings: expected {target, allows} items, got %r" % (item,))
            items.append((item["target"], item.get("allows") or "the step"))
    elif isinstance(targets, dict):
        items = list(targets.items())
    else:
        raise AnsibleFilterError("confirmation_findings: expected a dict of target: allows, got %s" % type(targets).__name__)
    findings = []
    for target, allows in items:
        if not confirmed(target, confirm, confirm_all):
            findings.append(not_confirmed(target, check, allows, check_mode))
        elif _bool(check_mode, "check_mode"):
            findings.append(make_finding(check, OK, "check mode: confirmed (%s): would %s" % (
                confirm_option(target), allows), target=target, state=CONFIRMED))
    return findings


def _bool(value, what):
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise AnsibleFilterError("%s must be a boolean, got %r" % (what, value))


class FilterModule(object):
    def filters(self):
        return {
            "confirmed": confirmed,
            "not_confirmed": not_confirmed,
            "confirmation_findings": confirmation_findings,
        }
