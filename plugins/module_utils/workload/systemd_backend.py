# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""systemd units through ``systemctl`` (status, restart, start, stop, wait).

Every call has a timeout.  A host where systemd is not PID 1 (containers) answers
"System has not been booted with systemd"; that is :class:`ServiceUnreachable`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess
import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.errors import (
    ServiceError,
    ServiceUnreachable,
)
from ansible_collections.opsbook.runbooks.plugins.module_utils.findings import (
    CRITICAL,
    OK,
    WARNING,
    make_action,
    make_finding,
    overall,
)

PROPERTIES = ("Id", "LoadState", "ActiveState", "SubState", "Result", "NRestarts", "MainPID", "ExecMainStatus")
_NOT_RUNNING = ("System has not been booted with systemd", "Failed to connect to bus")


def unit_name(name):
    return name if "." in name else name + ".service"


def systemctl(args, timeout):
    try:
        proc = subprocess.run(["systemctl"] + list(args), capture_output=True, text=True, timeout=timeout, check=False)
    except OSError as exc:
        raise ServiceUnreachable("systemctl cannot be run: %s" % exc)
    except subprocess.TimeoutExpired:
        raise ServiceUnreachable("systemctl %s did not answer within %ss" % (" ".join(args), timeout))
    text = (proc.stderr or "").strip()
    if any(marker in text for marker in _NOT_RUNNING):
        raise ServiceUnreachable("systemd is not running on this host: %s" % text.splitlines()[0])
    if proc.returncode != 0:
        raise ServiceError("systemctl %s failed (rc %d): %s" % (" ".join(args), proc.returncode, text))
    return proc.stdout


def parse_show(text):
    """``systemctl show -p ...`` output (KEY=value lines) as a dict with typed counters."""
    props = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            props[key] = value
    for key in ("NRestarts", "MainPID", "ExecMainStatus"):
        if props.get(key, "").isdigit():
            props[key] = int(props[key])
    return props


def unit_findings(props, target):
    """Findings for one unit's properties."""
    load, active = props.get("LoadState"), props.get("ActiveState")
    if load != "loaded":
        return [make_finding("workload_running", CRITICAL, "%s is not loaded (LoadState=%s)" % (target, load), value=load, target=target)]
    if active == "active":
        status, verdict = OK, "is running"
    elif active in ("activating", "reloading", "deactivating"):
        status, verdict = WARNING, "is %s" % active
    else:
        status, verdict = CRITICAL, "is %s (result %s)" % (active, props.get("Result"))
    return [make_finding("workload_running", status, "%s %s (%s/%s, %s restarts)" % (
        target, verdict, active, props.get("SubState"), props.get("NRestarts")), value=active, target=target)]


def _show(unit, timeout):
    return parse_show(systemctl(["show", "-p", ",".join(PROPERTIES), unit], timeout))


def status(params, check_mode):
    unit = unit_name(params["name"])
    props = _show(unit, params["timeout"])
    findings = unit_findings(props, unit)
    return {
        "kind": "systemd",
        "workload": unit,
        "ready": props.get("ActiveState") == "active",
        "units": [props],
        "findings": findings,
        "status": overall(findings),
    }


def wait(params, check_mode):
    unit = unit_name(params["name"])
    deadline = time.time() + params["timeout"]
    props = _show(unit, params["timeout"])
    while props.get("ActiveState") != "active" and time.time() < deadline:
        time.sleep(min(1.0, max(0.0, deadline - time.time())))
        props = _show(unit, params["timeout"])
    if props.get("ActiveState") != "active":
        raise ServiceError("%s is not active after %ss (ActiveState=%s)" % (unit, params["timeout"], props.get("ActiveState")))
    findings = unit_findings(props, unit)
    return {"kind": "systemd", "workload": unit, "ready": True, "units": [props], "changed": False, "findings": findings,
            "status": overall(findings)}


def _systemctl_action(params, check_mode, verb, then_wait=True):
    unit = unit_name(params["name"])
    if check_mode:
        props = _show(unit, params["timeout"])  # fails early when the unit cannot be read
        findings = unit_findings(props, unit)
        return {"kind": "systemd", "workload": unit, "changed": True, "units": [props], "ready": props.get("ActiveState") == "active",
                "findings": findings, "status": overall(findings),
                "actions": [make_action(verb, unit, True, True, "would run systemctl %s %s" % (verb, unit))]}
    systemctl([verb, unit], params["timeout"])
    if then_wait:
        result = wait(params, check_mode)
    else:
        props = _show(unit, params["timeout"])
        findings = unit_findings(props, unit)
        result = {"kind": "systemd", "workload": unit, "ready": props.get("ActiveState") == "active", "units": [props],
                  "findings": findings, "status": overall(findings)}
    result.update(changed=True, actions=[make_action(verb, unit, True, False, "systemctl %s %s" % (verb, unit))])
    return result


def restart(params, check_mode):
    return _systemctl_action(params, check_mode, "restart")


def start(params, check_mode):
    return _systemctl_action(params, check_mode, "start")


def stop(params, check_mode):
    """systemctl stop (confirm checked by the dispatcher); no wait."""
    return _systemctl_action(params, check_mode, "stop", then_wait=False)
