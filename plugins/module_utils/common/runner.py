# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How every opsbook module turns a result or an exception into exit_json/fail_json.

Diagnostic modules report an unreachable service as a finding (the task still
succeeds, so a health check can go on to the next service). An operation the service
refuses to the principal (:class:`PermissionDenied`) is a ``critical`` finding with
``state: permission_denied`` for diagnostics and actions alike: nothing changed, the run
goes on and the outcome says the problem remains. Every other :class:`OpsbookError`
becomes ``fail_json`` with a one-line, secret-free message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import (
    OpsbookError,
    PermissionDenied,
    ServiceUnreachable,
    scrub,
)
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    CRITICAL,
    overall,
    permission_finding,
    unreachable_finding,
)

PERMISSION_CHECK = "permission"


def _secrets(module):
    return [module.params.get(name) for name, spec in module.argument_spec.items() if spec.get("no_log")]


def run_diagnostic(module, check, target, probe, unreachable_status=CRITICAL):
    """Run ``probe()`` (returns a dict with ``findings``) and exit the module.

    ``status`` is computed from the findings unless the probe set it.
    """
    started = time.time()
    try:
        result = probe()
    except ServiceUnreachable as exc:
        message = scrub(str(exc), _secrets(module))
        finding = unreachable_finding(check, target, message.split(": ", 1)[-1], status=unreachable_status)
        finding["message"] = message
        result = {"reachable": False, "findings": [finding]}
    except PermissionDenied as exc:
        result = _refused(module, check, target, exc)
    except OpsbookError as exc:
        module.fail_json(msg=scrub(str(exc), _secrets(module)))
    result.setdefault("status", overall(result["findings"]))
    result.setdefault("target", target)
    result["duration"] = round(time.time() - started, 3)
    result["changed"] = result.get("changed", False)
    module.exit_json(**result)


def _refused(module, check, target, exc, phase=None):
    """The result of an operation the service refused: one permission finding, nothing changed."""
    finding = permission_finding(check, target, scrub(str(exc), _secrets(module)))
    if phase:
        finding["phase"] = phase
    return {"changed": False, "permission_denied": True, "actions": [], "findings": [finding]}


def run_action(module, action, check=PERMISSION_CHECK, target=None):
    """Run ``action()`` (returns the result dict) and exit; a refused operation becomes a
    ``critical`` permission finding (``check``, ``target``), other errors fail_json."""
    try:
        result = action()
    except PermissionDenied as exc:
        result = _refused(module, check, target, exc, phase="remediate")  # an action is a remediation step
        result["status"] = CRITICAL
    except OpsbookError as exc:
        module.fail_json(msg=scrub(str(exc), _secrets(module)))
    module.exit_json(**result)
