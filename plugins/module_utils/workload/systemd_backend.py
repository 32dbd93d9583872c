# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""systemd units through ``systemctl`` (status, restart, start, stop, wait).

Every call has a timeout.  A host where systemd is not PID 1 (containers) answers
"System has not been booted with systemd"; that is :class:`ServiceUnreachable`.

The systemd options (doc fragment ``opsbook.runbooks.systemd``, fed from ``opsbook_systemd``):
``systemd_scope`` (``system`` or ``user``: ``systemctl --user``), ``systemd_sudo`` (run ``systemctl``
through ``sudo -n``, never prompting) and ``systemd_unit_suffix`` (added to a name without one).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess
import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import (
    ServiceError,
    ServiceUnreachable,
)
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    CRITICAL,
    OK,
    WARNING,
    make_action,
    make_finding,
    overall,
)

PROPERTIES = ("Id", "LoadState", "ActiveState", "SubState", "Result", "NRestarts", "MainPID", "ExecMainStatus")
_NOT_RUNNING = ("System has not been booted with systemd", "Failed to connect to bus")


SCOPES = ("system", "user")
DEFAULT_SUFFIX = ".service"


def systemd_argument_spec():
    """The systemd options of the workload and log_scan modules (doc fragment opsbook.runbooks.systemd)."""
    return dict(
        systemd_scope=dict(type="str", default="system", choices=list(SCOPES)),
        systemd_sudo=dict(type="bool", default=False),
        systemd_unit_suffix=dict(type="str", default=DEFAULT_SUFFIX),
    )


def unit_name(name, suffix=DEFAULT_SUFFIX):
    """``name`` with ``suffix`` (``.service``) unless it has a suffix of its own (``etl.timer``)."""
    if "." in name or not suffix:
        return name
    return name + (suffix if suffix.startswith(".") else "." + suffix)


def command(tool, params):
    """``[sudo -n] tool [--user]`` for the systemd options in ``params`` (``systemctl`` or ``journalctl``)."""
    params = params or {}
    cmd = ["sudo", "-n"] if params.get("systemd_sudo") else []
    cmd.append(tool)
    if params.get("systemd_scope") == "user":
        cmd.append("--user")
    return cmd


def _unit(params):
    return unit_name(params["name"], params.get("systemd_unit_suffix", DEFAULT_SUFFIX))


def systemctl(args, timeout, params=None):
    try:
        proc = subprocess.run(command("systemctl", params) + list(args), capture_output=True, text=True, timeout=timeout, check=False)
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


def _show(unit, timeout, params=None):
    return parse_show(systemctl(["show", "-p", ",".join(PROPERTIES), unit], timeout, params))


def status(params, check_mode):
    unit = _unit(params)
    props = _show(unit, params["timeout"], params)
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
    unit = _unit(params)
    deadline = time.time() + params["timeout"]
    props = _show(unit, params["timeout"], params)
    while props.get("ActiveState") != "active" and time.time() < deadline:
        time.sleep(min(1.0, max(0.0, deadline - time.time())))
        props = _show(unit, params["timeout"], params)
    if props.get("ActiveState") != "active":
        raise ServiceError("%s is not active after %ss (ActiveState=%s)" % (unit, params["timeout"], props.get("ActiveState")))
    findings = unit_findings(props, unit)
    return {"kind": "systemd", "workload": unit, "ready": True, "units": [props], "changed": False, "findings": findings,
            "status": overall(findings)}


def _systemctl_action(params, check_mode, verb, then_wait=True):
    unit = _unit(params)
    if check_mode:
        props = _show(unit, params["timeout"], params)  # fails early when the unit cannot be read
        findings = unit_findings(props, unit)
        return {"kind": "systemd", "workload": unit, "changed": True, "units": [props], "ready": props.get("ActiveState") == "active",
                "findings": findings, "status": overall(findings),
                "actions": [make_action(verb, unit, True, True, "would run systemctl %s %s" % (verb, unit))]}
    systemctl([verb, unit], params["timeout"], params)
    if then_wait:
        result = wait(params, check_mode)
    else:
        props = _show(unit, params["timeout"], params)
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
