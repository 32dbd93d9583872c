"""The workload dispatcher (routing and option rules) and systemd text parsing, as tables."""

from __future__ import annotations

import types

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.workload import dispatch as workload
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.workload import systemd_backend


def _recording_backend(calls, operations=workload.OPERATIONS):
    def make(op):
        return lambda params, check_mode: calls.append((op, params["name"], check_mode)) or {"op": op}
    return types.SimpleNamespace(**{op: make(op) for op in operations})


def _params(**kw):
    base = dict(kind="kubernetes", name="api", operation="status", replicas=None, revision=None, confirm=None, timeout=30)
    base.update(kw)
    return base


@pytest.mark.parametrize("overrides, check_mode, expected_call", [
    ({}, False, ("status", "api", False)),
    ({"operation": "restart"}, True, ("restart", "api", True)),
    ({"operation": "scale", "replicas": 3}, False, ("scale", "api", False)),
    ({"operation": "scale", "replicas": 0, "confirm": "api"}, True, ("scale", "api", True)),
    ({"operation": "rollback"}, False, ("rollback", "api", False)),
    ({"operation": "rollback", "revision": 4}, False, ("rollback", "api", False)),
    ({"operation": "wait", "kind": "compose", "project": "shop"}, False, ("wait", "api", False)),
    ({"operation": "stop", "confirm": "api"}, True, ("stop", "api", True)),
    ({"operation": "start"}, False, ("start", "api", False)),
    ({"operation": "update", "image": "app:2", "container": "web"}, False, ("update", "api", False)),
])
def test_dispatch_routes_to_the_backend_operation(overrides, check_mode, expected_call):
    calls, kinds = [], []
    loader = lambda kind: kinds.append(kind) or _recording_backend(calls)  # noqa: E731
    result = workload.dispatch(_params(**overrides), check_mode, loader=loader)
    assert calls == [expected_call]
    assert result == {"op": expected_call[0]}
    assert kinds == [overrides.get("kind", "kubernetes")]


@pytest.mark.parametrize("overrides, message", [
    ({"kind": "nomad"}, "kind: expected one of kubernetes, compose, systemd, got 'nomad'"),
    ({"operation": "explode"}, "operation: expected one of status, restart, scale, rollback, wait"),
    ({"name": ""}, "name: the workload to act on is required"),
    ({"timeout": 0}, "timeout: must be positive"),
    ({"operation": "scale"}, "replicas: required for operation=scale"),
    ({"operation": "scale", "replicas": -1}, "replicas: must be 0 or more, got -1"),
    ({"operation": "scale", "replicas": 0}, "confirm: scaling api to zero stops it; set confirm to 'api'"),
    ({"operation": "scale", "replicas": 0, "confirm": "web"}, "confirm: scaling api to zero"),
    ({"operation": "rollback", "revision": 0}, "revision: a positive revision"),
    ({"operation": "status", "revision": 2}, "revision: a positive revision, only with operation=rollback"),
    ({"operation": "stop"}, "confirm: stopping api takes it out of service; set confirm to 'api' to proceed"),
    ({"operation": "stop", "confirm": "API"}, "confirm: stopping api takes it out of service"),
    ({"operation": "update"}, "image: required for operation=update"),
    ({"operation": "restart", "image": "app:2"}, "image: only with operation=update (got it with restart)"),
    ({"operation": "status", "container": "web"}, "container: only with operation=update (got it with status)"),
    ({"kind": "compose"}, "project: the compose project is required for kind=compose"),
])
def test_dispatch_rejects_bad_input_before_any_backend_call(overrides, message):
    calls = []
    with pytest.raises(InvalidInput) as err:
        workload.dispatch(_params(**overrides), False, loader=lambda kind: _recording_backend(calls))
    assert message in str(err.value)
    assert calls == []


def test_unsupported_operation_lists_what_the_backend_supports():
    with pytest.raises(InvalidInput) as err:
        workload.dispatch(_params(kind="systemd", operation="scale", replicas=2), False,
                          loader=lambda kind: _recording_backend([], ("status", "restart", "wait")))
    assert str(err.value) == "operation: scale is not supported for kind=systemd (supported: status, restart, wait)"


def test_real_loader():
    from ansible_collections.opsbook.runbooks.plugins.module_utils.workload import compose_backend, kubernetes_backend
    assert [workload.load_backend(kind) for kind in workload.KINDS] == [kubernetes_backend, compose_backend, systemd_backend]
    with pytest.raises(InvalidInput, match="kind: the 'nomad' backend is not available"):
        workload.load_backend("nomad")


SHOW_FAILED = "Id=api.service\nLoadState=loaded\nActiveState=failed\nSubState=failed\nResult=exit-code\nNRestarts=3\nMainPID=0\nExecMainStatus=1\n"
SHOW_OK = "Id=api.service\nLoadState=loaded\nActiveState=active\nSubState=running\nResult=success\nNRestarts=0\nMainPID=42\nExecMainStatus=0\n"
SHOW_MISSING = "Id=nope.service\nLoadState=not-found\nActiveState=inactive\nSubState=dead\nResult=success\nNRestarts=0\n"


@pytest.mark.parametrize("text, status, message", [
    (SHOW_OK, "ok", "api.service is running (active/running, 0 restarts)"),
    (SHOW_FAILED, "critical", "api.service is failed (result exit-code) (failed/failed, 3 restarts)"),
    (SHOW_MISSING, "critical", "api.service is not loaded (LoadState=not-found)"),
    (SHOW_OK.replace("=active", "=activating"), "warning", "api.service is activating (activating/running, 0 restarts)"),
])
def test_systemd_unit_findings(text, status, message):
    props = systemd_backend.parse_show(text)
    assert isinstance(props["NRestarts"], int)
    [finding] = systemd_backend.unit_findings(props, "api.service")
    assert (finding["status"], finding["message"]) == (status, message)


@pytest.mark.parametrize("name, unit", [("api", "api.service"), ("api.service", "api.service"), ("db.socket", "db.socket")])
def test_unit_name(name, unit):
    assert systemd_backend.unit_name(name) == unit


@pytest.mark.parametrize("desired, replicas, expected_calls, changed", [
    (2, 3, ["status", "scale"], None),  # below the target: scaled up
    (3, 3, ["status"], False),  # at the target: kept
    (5, 3, ["status"], False),  # above it: never scaled down
])
def test_scale_down_false_only_adds_replicas(desired, replicas, expected_calls, changed):
    calls = []
    backend = types.SimpleNamespace(
        status=lambda params, check_mode: calls.append("status") or {"workload": "ns/api", "desired": desired, "findings": []},
        scale=lambda params, check_mode: calls.append("scale") or {"changed": True, "actions": []})
    result = workload.dispatch(_params(operation="scale", replicas=replicas, scale_down=False), True, loader=lambda kind: backend)
    assert calls == expected_calls
    if changed is False:
        [action] = result["actions"]
        assert (result["changed"], action["action"], action["changed"], action["dry_run"], action["detail"]) == (
            False, "scale", False, True, "already at %d replicas (target %d): not scaled down" % (desired, replicas))


def test_scale_down_is_only_for_scale():
    with pytest.raises(InvalidInput, match="scale_down: only with operation=scale"):
        workload.dispatch(_params(operation="restart", scale_down=False), False, loader=lambda kind: None)
