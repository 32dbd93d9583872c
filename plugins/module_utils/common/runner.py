# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How every opsbook module turns a result or an exception into exit_json/fail_json.

Diagnostic modules report an unreachable service as a finding (the task still
succeeds, so a health check can go on to the next service); every other
:class:`OpsbookError` becomes ``fail_json`` with a one-line, secret-free message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import (
    OpsbookError,
    ServiceUnreachable,
    scrub,
)
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    CRITICAL,
    overall,
    unreachable_finding,
)


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
    except OpsbookError as exc:
        module.fail_json(msg=scrub(str(exc), _secrets(module)))
    result.setdefault("status", overall(result["findings"]))
    result.setdefault("target", target)
    result["duration"] = round(time.time() - started, 3)
    result["changed"] = result.get("changed", False)
    module.exit_json(**result)


def run_action(module, action):
    """Run ``action()`` (returns the result dict) and exit; errors become fail_json."""
    try:
        result = action()
    except OpsbookError as exc:
        module.fail_json(msg=scrub(str(exc), _secrets(module)))
    module.exit_json(**result)
