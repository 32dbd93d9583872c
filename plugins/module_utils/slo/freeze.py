# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deploy freezes: ConectCRM SLOAvailabilityViolation "Ação 2: Parar deploys (freeze)".

A freeze is one JSON record ``<state_dir>/<name>.json`` (``opsbook.freeze/v1``: name, reason, the
numbers that caused it, since when), written atomically (temporary file, fsync, rename) under an
``flock``. The slo-error-budget scenario puts one when an SLO's error budget is spent and lifts it
when the budget recovers; the deploy scenario asks :func:`gate` first and refuses while a freeze
stands that ``--confirm NAME`` does not name.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.backup.common import write_atomic
from ansible_collections.opsbook.runbooks.plugins.module_utils.common import state as opsbook_state
from ansible_collections.opsbook.runbooks.plugins.module_utils.common import times
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput, OpsbookError
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    CRITICAL,
    OK,
    make_action,
    make_finding,
)

SCHEMA = "opsbook.freeze/v1"
CHECK = "deploy_freeze"
FROZEN = "frozen"
LIFTED = "lifted"
CONFIRMED = "confirmed"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}\Z")


class FreezeError(OpsbookError):
    """A freeze record could not be read or written."""


def default_state_dir(env=None):
    return opsbook_state.default_state_dir("freezes", env)


def check_name(name):
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput("name: a freeze name is letters, digits, '.', '_' and '-' (at most 128), got %r" % (name,))
    return name


def _path(state_dir, name):
    return os.path.join(state_dir, check_name(name) + ".json")


def load(path):
    """The record at ``path``, None when there is none."""
    return opsbook_state.load_record(path, SCHEMA, FreezeError, "freeze record")


def standing(state_dir):
    """Every freeze record in ``state_dir``, by name (none when the directory does not exist)."""
    try:
        names = sorted(os.listdir(state_dir))
    except OSError:
        if os.path.isdir(state_dir):
            raise FreezeError("cannot list the freeze records in %s" % state_dir)
        return []
    return [r for r in (load(os.path.join(state_dir, n)) for n in names if n.endswith(".json") and not n.startswith("."))
            if r is not None]


def _locked(state_dir):
    return opsbook_state.locked_dir(state_dir, "another opsbook run holds the freezes in %s" % state_dir, FreezeError)


def describe(record):
    return "deploys frozen by %s since %s: %s" % (record["name"], record["since"], record["reason"])


def put(state_dir, name, reason, details=None, now=None, check_mode=False):
    """Freeze deploys under ``name``; a freeze already standing stays as it is (not changed)."""
    path = _path(state_dir, name)
    if not reason:
        raise InvalidInput("reason: a freeze needs a reason")
    existing = load(path)
    if existing is not None:
        finding = make_finding(CHECK, CRITICAL, describe(existing), target=name, state=FROZEN)
        return {"changed": False, "freeze": existing, "findings": [finding],
                "actions": []}
    record = {"schema": SCHEMA, "name": name, "reason": reason, "details": details or {},
              "since": times.iso(now if now is not None else time.time())}
    if not check_mode:
        with _locked(state_dir):
            write_atomic(path, json.dumps(record, indent=2, sort_keys=True) + "\n", mode=0o600)
    message = ("check mode: would freeze deploys: %s" % reason) if check_mode else describe(record)
    return {"changed": True, "freeze": record, "findings": [make_finding(CHECK, CRITICAL, message, target=name, state=FROZEN)],
            "actions": [make_action("freeze_deploys", name, True, check_mode, reason)]}


def lift(state_dir, name, reason, check_mode=False):
    """Lift the freeze ``name``; nothing to do (not changed) when none stands."""
    path = _path(state_dir, name)
    existing = load(path)
    if existing is None:
        return {"changed": False, "freeze": None, "actions": [],
                "findings": [make_finding(CHECK, OK, "no deploy freeze %s stands" % name, target=name)]}
    if not check_mode:
        with _locked(state_dir):
            os.unlink(path)
    message = "%sdeploy freeze %s (since %s) lifted: %s" % (
        "check mode: would lift: " if check_mode else "", name, existing["since"], reason)
    return {"changed": True, "freeze": existing, "findings": [make_finding(CHECK, OK, message, target=name, state=LIFTED)],
            "actions": [make_action("lift_freeze", name, True, check_mode, reason)]}


def gate(state_dir, confirm=()):
    """The deploy's verdict on the standing freezes: refused (critical) unless ``confirm`` names each of them."""
    records = standing(state_dir)
    confirm = set(confirm or ())
    if not records:
        return {"allowed": True, "freezes": [],
                "findings": [make_finding(CHECK, OK, "no deploy freeze stands (%s)" % state_dir, target=state_dir)]}
    findings = []
    for record in records:
        if record["name"] in confirm:
            findings.append(make_finding(CHECK, OK, "%s; deploying anyway: confirmed with --confirm %s"
                                         % (describe(record), record["name"]), target=record["name"], state=CONFIRMED))
        else:
            findings.append(make_finding(CHECK, CRITICAL, "deploy refused, %s; pass --remediate --confirm %s to deploy anyway"
                                         % (describe(record), record["name"]), target=record["name"], state=FROZEN))
    return {"allowed": all(f["status"] == OK for f in findings), "freezes": records, "findings": findings}


def run(params, check_mode=False):
    """The ``deploy_freeze`` module: ``state`` present (freeze), absent (lift) or query (the deploy's gate)."""
    state_dir = params.get("state_dir") or default_state_dir()
    state = params.get("state") or "query"
    if state == "query":
        result = gate(state_dir, params.get("confirm") or [])
        result.update(changed=False, actions=[])
    else:
        if not params.get("name"):
            raise InvalidInput("name is required with state=%s" % state)
        if state == "present":
            result = put(state_dir, params["name"], params.get("reason"), params.get("details"), check_mode=check_mode)
        else:
            result = lift(state_dir, params["name"], params.get("reason") or "lifted by hand", check_mode=check_mode)
    result["state_dir"] = state_dir
    return result
