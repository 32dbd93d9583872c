# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""docker compose services through the Docker engine (:mod:`docker_engine`), no compose binary.

A service is the set of containers labelled ``com.docker.compose.project=<project>`` and
``com.docker.compose.service=<name>`` (what docker-compose v1 and v2 create).

- status: per container state, health (from its HEALTHCHECK), restarts, exit code, OOMKilled.
- wait: until every container is running and, when it has a healthcheck, healthy.
- restart / start / stop: the engine's calls on every container, then the wait (not after stop).
- update: recreate each container from its own configuration with a new image, recording the
  image it ran in the label ``opsbook.previous-image``; rollback recreates with that image
  (and records the one it replaces, so a second rollback goes forward again).
- scale is refused: creating or removing containers needs the compose file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.docker import common as docker_engine
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput, OpsbookError, ServiceError
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    CRITICAL,
    OK,
    WARNING,
    make_action,
    make_finding,
    overall,
)

PREVIOUS_IMAGE_LABEL = "opsbook.previous-image"
STOP_TIMEOUT = 10
# Config keys of an inspected container that /containers/create accepts back.
CREATE_KEYS = ("Hostname", "Domainname", "User", "AttachStdin", "AttachStdout", "AttachStderr", "ExposedPorts", "Tty",
               "OpenStdin", "StdinOnce", "Env", "Cmd", "Healthcheck", "ArgsEscaped", "Volumes", "WorkingDir", "Entrypoint",
               "NetworkDisabled", "MacAddress", "OnBuild", "Labels", "StopSignal", "StopTimeout", "Shell")


class _Service(object):
    def __init__(self, params):
        self.project, self.service = params["project"], params["name"]
        self.target = "%s/%s" % (self.project, self.service)
        self.timeout = params["timeout"]
        self.deadline = time.time() + params["timeout"]
        self.engine = docker_engine.engine(params, params["timeout"])

    def containers(self, required=True):
        found = self.engine.containers(project=self.project, service=self.service)
        if required and not found:
            raise ServiceError("compose service %s has no containers on %s (is the project up? docker-compose -p %s up -d)" % (
                self.target, self.engine.docker_host, self.project))
        return found

    def states(self):
        return [docker_engine.container_state(self.engine.inspect(c["Id"])) for c in self.containers(required=False)]


def container_ready(state):
    """Running, and healthy when the container has a healthcheck."""
    return state["running"] and state["health"] in (None, "healthy")


def container_findings(state):
    """A finding for a container that is not ready (none when it is)."""
    name = state["name"]
    if container_ready(state):
        return []
    if not state["running"]:
        detail = "exit code %s" % state["exit_code"]
        if state["oom_killed"]:
            detail += ", OOMKilled"
        value = "OOMKilled" if state["oom_killed"] else state["state"]
        return [make_finding("workload_container", CRITICAL, "container %s is %s (%s, %d restarts)" % (
            name, state["state"], detail, state["restarts"]), value=value, target=name)]
    status = WARNING if state["health"] == "starting" else CRITICAL
    return [make_finding("workload_container", status, "container %s is running but %s (failing streak %s, %d restarts)" % (
        name, state["health"], state["failing_streak"], state["restarts"]), value=state["health"], target=name)]


def service_findings(states, target):
    ready, total = sum(1 for s in states if container_ready(s)), len(states)
    if total == 0:
        return [make_finding("workload_ready", CRITICAL, "%s has no containers" % target, value=0,
                             threshold={"expected": 0}, unit="containers", target=target)]
    status = OK if ready == total else (CRITICAL if ready == 0 else WARNING)
    findings = [make_finding("workload_ready", status, "%s has %d of %d containers running and healthy" % (target, ready, total),
                             value=ready, threshold={"expected": total}, unit="containers", target=target)]
    for state in states:
        findings.extend(container_findings(state))
    return findings


def _result(svc, states=None):
    states = svc.states() if states is None else states
    findings = service_findings(states, svc.target)
    ready = sum(1 for s in states if container_ready(s))
    return {"kind": "compose", "workload": svc.target, "containers": states, "desired": len(states), "ready_replicas": ready,
            "ready": bool(states) and ready == len(states), "findings": findings, "status": overall(findings)}


def status(params, check_mode):
    return _result(_Service(params))


def _wait(svc):
    states = svc.states()
    while not (states and all(container_ready(s) for s in states)) and time.time() < svc.deadline:
        time.sleep(min(0.5, max(0.05, svc.deadline - time.time())))
        states = svc.states()
    if not (states and all(container_ready(s) for s in states)):
        detail = ", ".join("%s %s%s" % (s["name"], s["state"], "/" + s["health"] if s["health"] else "") for s in states) or "no containers"
        raise ServiceError("compose service %s not running and healthy after %ss: %s" % (svc.target, svc.timeout, detail))
    return states


def wait(params, check_mode):
    svc = _Service(params)
    return dict(_result(svc, _wait(svc)), changed=False)


def _each(params, check_mode, action, verb, needed, call, then_wait=True):
    """Run ``call(engine, id)`` on the service's containers for which ``needed(state)`` holds."""
    svc = _Service(params)
    todo = [c for c in svc.containers() if needed(docker_engine.container_state(svc.engine.inspect(c["Id"])))]
    names = [c["Names"][0].lstrip("/") for c in todo]
    detail = "%s %s: %s" % (verb, svc.target, ", ".join(names) or "nothing to do")
    if check_mode:
        return dict(_result(svc), changed=bool(todo), actions=[make_action(action, svc.target, bool(todo), True, "would " + detail)])
    for container in todo:
        call(svc.engine, container["Id"])
    result = _result(svc, _wait(svc) if then_wait else None)
    result.update(changed=bool(todo), actions=[make_action(action, svc.target, bool(todo), False, detail)])
    return result


def restart(params, check_mode):
    return _each(params, check_mode, "restart", "restart", lambda state: True,
                 lambda engine, cid: engine.restart(cid, STOP_TIMEOUT))


def start(params, check_mode):
    return _each(params, check_mode, "start", "start", lambda state: not state["running"], lambda engine, cid: engine.start(cid))


def stop(params, check_mode):
    return _each(params, check_mode, "stop", "stop", lambda state: state["running"],
                 lambda engine, cid: engine.stop(cid, STOP_TIMEOUT), then_wait=False)


def scale(params, check_mode):
    raise InvalidInput("operation: scale is not supported for kind=compose: creating or removing containers needs the compose "
                       "file (run docker-compose -p %s up -d --scale %s=%s)" % (params["project"], params["name"], params.get("replicas")))


def create_config(info, image, previous_image):
    """The /containers/create body that recreates ``info`` (an inspected container) with ``image``.

    Keeps the container's own command, environment, labels, healthcheck and host config;
    records ``previous_image`` in the label ``opsbook.previous-image``.
    """
    config = dict((key, value) for key, value in (info.get("Config") or {}).items() if key in CREATE_KEYS)
    config["Image"] = image
    config["Labels"] = dict(config.get("Labels") or {}, **{PREVIOUS_IMAGE_LABEL: previous_image})
    host_config = dict(info.get("HostConfig") or {})
    config["HostConfig"] = host_config
    mode = host_config.get("NetworkMode") or ""
    if mode == "host" or mode.startswith("container:") or config.get("Hostname") == info.get("Id", "")[:12]:
        config.pop("Hostname", None)  # the engine's own value, not the service's
        config.pop("Domainname", None)
    if mode not in ("host", "none", "") and not mode.startswith("container:"):
        networks = ((info.get("NetworkSettings") or {}).get("Networks") or {})
        config["NetworkingConfig"] = {"EndpointsConfig": dict(
            (net, {"Aliases": [a for a in (ep.get("Aliases") or []) if a != info.get("Id", "")[:12]]})
            for net, ep in networks.items())}
    return config


def recreate(engine, container_id, image):
    """Replace one container by a new one with ``image``; the old one is restored if that fails.

    Returns ``(new_id, old_image)``.
    """
    info = engine.inspect(container_id)
    name = info["Name"].lstrip("/")
    old_image = info["Config"]["Image"]
    config = create_config(info, image, old_image)
    engine.stop(container_id, STOP_TIMEOUT)
    parked = "%s_opsbook_replaced_%s" % (name, container_id[:12])
    engine.rename(container_id, parked)
    new_id = None
    try:
        new_id = engine.create(name, config)
        engine.start(new_id)
    except OpsbookError as exc:
        if new_id:
            engine.remove(new_id, force=True)
        engine.rename(container_id, name)
        engine.start(container_id)
        raise ServiceError("recreating %s with %s failed, the previous container is running again: %s" % (name, image, exc))
    engine.remove(container_id)
    return new_id, old_image


def _recreate_all(params, check_mode, action, image_for):
    """Recreate every container of the service with ``image_for(info)``, then wait."""
    svc = _Service(params)
    plan = []
    for container in svc.containers():
        info = svc.engine.inspect(container["Id"])
        plan.append((container["Id"], info["Name"].lstrip("/"), info["Config"]["Image"], image_for(info)))
    targets = sorted(set(p[3] for p in plan))
    for target in targets:
        svc.engine.image(target)  # a clear error before anything is stopped
    todo = [p for p in plan if p[2] != p[3]]
    detail = "recreate %s: %s" % (svc.target, ", ".join("%s %s -> %s" % (name, old, new) for _cid, name, old, new in todo) or
                                  "every container already runs %s" % ", ".join(targets))
    extra = {"image": plan[0][3], "previous_image": plan[0][2]}
    if check_mode or not todo:
        result = _result(svc) if check_mode else _result(svc, _wait(svc))
        action_record = make_action(action, svc.target, bool(todo), check_mode, ("would " if check_mode else "") + detail)
        result.update(extra, changed=bool(todo), actions=[action_record])
        return result
    for cid, _name, _old, new in todo:
        recreate(svc.engine, cid, new)
    result = _result(svc, _wait(svc))
    result.update(extra, changed=True, actions=[make_action(action, svc.target, True, False, detail)])
    return result


def update(params, check_mode):
    return _recreate_all(params, check_mode, "update", lambda info: params["image"])


def rollback(params, check_mode):
    if params.get("revision") is not None:
        raise InvalidInput("revision: kind=compose rolls back to the previous image only (label %s); omit revision" % PREVIOUS_IMAGE_LABEL)

    def previous(info):
        recorded = ((info.get("Config") or {}).get("Labels") or {}).get(PREVIOUS_IMAGE_LABEL)
        if not recorded:
            raise ServiceError("rollback: container %s of %s/%s has no previous image recorded (label %s is set by "
                               "operation=update); nothing to roll back to" % (
                                   info["Name"].lstrip("/"), params["project"], params["name"], PREVIOUS_IMAGE_LABEL))
        return recorded

    return _recreate_all(params, check_mode, "rollback", previous)
