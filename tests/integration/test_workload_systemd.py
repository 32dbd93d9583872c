"""The workload module on this machine: real systemctl, which has no systemd as PID 1 here.

This is the honest extent of systemd testing in the lab container: the module must turn
"System has not been booted with systemd" into a critical finding (status) or one clear
failure (restart), and check option rules before touching anything.  A host with systemd
(not available here) is needed to test a real restart.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers import run_module

pytestmark = pytest.mark.skipif(
    Path("/proc/1/comm").read_text().strip() == "systemd", reason="these tests pin the no-systemd behaviour"
)


def _systemctl_says():
    proc = subprocess.run(["systemctl", "show", "-p", "Id", "opsbook-wl-none.service"],
                          capture_output=True, text=True, timeout=30, check=False)
    return proc.stderr.strip().splitlines()[0]


def test_status_without_systemd_is_a_critical_finding():
    result = run_module("workload", {"kind": "systemd", "name": "opsbook-wl-api"})
    assert result.get("failed") is not True, result
    assert result["status"] == "critical"
    [finding] = result["findings"]
    assert finding["check"] == "workload_reachable"
    assert finding["message"] == "systemd is not running on this host: %s" % _systemctl_says()
    assert result["target"] == "systemd/opsbook-wl-api"


@pytest.mark.parametrize("operation", ["restart", "start", "stop"])
@pytest.mark.parametrize("check_mode", [True, False])
def test_changes_without_systemd_fail_clearly(check_mode, operation):
    args = {"kind": "systemd", "name": "opsbook-wl-api", "operation": operation, "confirm": "opsbook-wl-api" if operation == "stop" else None}
    result = run_module("workload", args, check_mode=check_mode)
    assert result["failed"] is True
    assert result["msg"] == "systemd is not running on this host: %s" % _systemctl_says()


@pytest.mark.parametrize("args, message", [
    ({"kind": "systemd", "name": "opsbook-wl-api", "operation": "scale", "replicas": 2},
     "operation: scale is not supported for kind=systemd (supported: status, restart, wait, start, stop)"),
    ({"kind": "systemd", "name": "opsbook-wl-api", "operation": "stop"},
     "confirm: stopping opsbook-wl-api takes it out of service; set confirm to 'opsbook-wl-api' to proceed"),
    ({"kind": "systemd", "name": "opsbook-wl-api", "operation": "scale", "replicas": 0},
     "confirm: scaling opsbook-wl-api to zero stops it; set confirm to 'opsbook-wl-api' to proceed"),
    ({"kind": "compose", "name": "api"}, "project: the compose project is required for kind=compose"),
    ({"kind": "systemd", "name": "opsbook-wl-api", "operation": "update"},
     "image: required for operation=update (the new image reference, e.g. registry/app:1.2.3)"),
])
def test_bad_requests_fail_before_any_change(args, message):
    result = run_module("workload", args)
    assert result["failed"] is True
    assert result["msg"] == message
