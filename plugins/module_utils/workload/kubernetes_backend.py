# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes Deployments and StatefulSets through :mod:`k8s_common` (the ``kubernetes`` client).

Operations: status, wait, restart, scale, start, stop, update, rollback.

- restart has ``kubectl rollout restart`` semantics: it patches the pod template annotation
  ``kubectl.kubernetes.io/restartedAt``, so the controller rolls out a new ReplicaSet
  (StatefulSet: a new ControllerRevision); then it waits for the rollout.
- update is ``kubectl set image``: one container's image, then the wait.
- rollback is ``kubectl rollout undo``: Deployment -> the chosen ReplicaSet's pod template
  (minus the ``pod-template-hash`` label) replaces the Deployment's; StatefulSet -> the
  chosen ControllerRevision's recorded patch is applied.  Then the wait.
- stop = scale to 0 (confirm required by the dispatcher), recording the replicas in the
  annotation ``opsbook.io/replicas-before-stop``; start scales back to that number.
- Every change waits like ``kubectl rollout status`` and reports the new revision.
  Every API call is bounded by the request timeout (k8s_common).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.kubernetes import common as k8s_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput, ServiceError
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    CRITICAL,
    OK,
    WARNING,
    make_action,
    make_finding,
    overall,
)

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
REVISION = "deployment.kubernetes.io/revision"
TEMPLATE_HASH = "pod-template-hash"
REPLICAS_BEFORE_STOP = "opsbook.io/replicas-before-stop"
RESOURCES = ("deployment", "statefulset")
BAD_WAITING = ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError", "InvalidImageName")
OOM_KILLED = "OOMKilled"
MAX_PODS_NAMED = 5  # failing pods named in a rollout's error


class _Api(k8s_common.Kube):
    """The client bound to one Deployment or StatefulSet."""

    def __init__(self, params):
        super(_Api, self).__init__(params, params["timeout"])
        self.name = k8s_common.validate_name(params["name"], "name")
        self.resource = params.get("resource") or "deployment"
        if self.resource not in RESOURCES:
            raise InvalidInput("resource: expected one of %s, got %r" % (", ".join(RESOURCES), self.resource))
        self.target = "%s/%s" % (self.namespace, self.name)
        self.label = "%s %s" % (self.resource, self.target)
        self.deadline = time.time() + params["timeout"]
        self.wait_seconds = params["timeout"]

    def call(self, func, *args, **kwargs):
        kwargs.setdefault("not_found", "%s not found" % self.label)
        return super(_Api, self).call(func, *args, **kwargs)

    def read(self):
        func = self.apps.read_namespaced_deployment if self.resource == "deployment" else self.apps.read_namespaced_stateful_set
        return self.call(func, self.name, self.namespace)

    def patch(self, body):
        func = self.apps.patch_namespaced_deployment if self.resource == "deployment" else self.apps.patch_namespaced_stateful_set
        return self.call(func, self.name, self.namespace, body)

    def pods(self, obj):
        selector = k8s_common.selector_string(obj.spec.selector.match_labels)
        return self.call(self.core.list_namespaced_pod, self.namespace, label_selector=selector).items

    def history(self, obj):
        """``{revision: ReplicaSet}`` (Deployment) or ``{revision: ControllerRevision}`` (StatefulSet) it owns."""
        selector = k8s_common.selector_string(obj.spec.selector.match_labels)
        if self.resource == "deployment":
            items = self.call(self.apps.list_namespaced_replica_set, self.namespace, label_selector=selector).items
        else:
            items = self.call(self.apps.list_namespaced_controller_revision, self.namespace, label_selector=selector).items
        owned = {}
        for item in items:
            if not any(ref.uid == obj.metadata.uid and ref.controller for ref in item.metadata.owner_references or []):
                continue
            if self.resource == "deployment":
                owned[int((item.metadata.annotations or {}).get(REVISION, 0))] = item
            else:
                owned[int(item.revision)] = item
        return owned


def pod_row(pod):
    """Phase, readiness, restarts and container reasons of one pod, as the kubelet reports them.

    ``waiting``: the first container ``state.waiting.reason`` of BAD_WAITING (ErrImagePull,
    CrashLoopBackOff...); ``last_terminated``: OOMKilled when a container's
    ``lastState.terminated.reason`` is OOMKilled, else the first one (Error...); ``reason``: the
    worst of them, a bad waiting reason first, then the last termination.
    """
    statuses = pod.status.container_statuses or []
    waiting_reasons = [cs.state.waiting.reason for cs in statuses
                       if cs.state and cs.state.waiting and cs.state.waiting.reason in BAD_WAITING]
    terminated = [cs.last_state.terminated.reason for cs in statuses
                  if cs.last_state and cs.last_state.terminated and cs.last_state.terminated.reason]
    last = OOM_KILLED if OOM_KILLED in terminated else (terminated[0] if terminated else None)
    return {
        "name": pod.metadata.name,
        "phase": pod.status.phase,
        "ready": bool(statuses) and all(cs.ready for cs in statuses),
        "restarts": sum(cs.restart_count or 0 for cs in statuses),
        "reason": waiting_reasons[0] if waiting_reasons else last,
        "waiting": waiting_reasons[0] if waiting_reasons else None,
        "last_terminated": last,
    }


def pod_problem(pod):
    """``pod NAME: REASON[, last terminated OOMKilled] (N restarts)`` for a pod with a bad reason, else None."""
    reason = pod["reason"]
    if reason not in BAD_WAITING and reason != OOM_KILLED:
        return None
    last = pod.get("last_terminated")
    also = ", last terminated %s" % last if last == OOM_KILLED and reason != last else ""
    return "pod %s: %s%s (%d restarts)" % (pod["name"], reason, also, pod["restarts"])


def pod_problems(rows):
    """``; pod A: ErrImagePull (0 restarts); ...`` of the failing pods among ``rows`` (the first
    MAX_PODS_NAMED, then how many more), or an empty string."""
    problems = [p for p in (pod_problem(row) for row in rows) if p]
    text = "".join("; " + p for p in problems[:MAX_PODS_NAMED])
    if len(problems) > MAX_PODS_NAMED:
        text += "; %d more failing pods" % (len(problems) - MAX_PODS_NAMED)
    return text


def summarize(obj, resource="deployment", history=None):
    """Replica counts and revision, the same keys for both resources.

    StatefulSet: ``revision`` is the number of the ControllerRevision named by
    ``status.updateRevision`` (0 unless ``history`` is given); ``current_revision`` /
    ``update_revision`` are the names the controller reports.
    """
    st = obj.status
    summary = {
        "desired": obj.spec.replicas if obj.spec.replicas is not None else 1,
        "ready_replicas": st.ready_replicas or 0,
        "updated": st.updated_replicas or 0,
        "available": st.available_replicas or 0,
        "total": st.replicas or 0,
        "generation": obj.metadata.generation,
        "observed_generation": st.observed_generation,
    }
    if resource == "deployment":
        summary["revision"] = int((obj.metadata.annotations or {}).get(REVISION, 0))
    else:
        summary["revision"] = next((rev for rev, cr in (history or {}).items() if cr.metadata.name == st.update_revision), 0)
        summary["current_revision"] = st.current_revision
        summary["update_revision"] = st.update_revision
    return summary


def rollout_complete(summary):
    """kubectl rollout status: observed the latest spec, all replicas updated and ready, no old ones.

    A StatefulSet is also complete only once ``currentRevision`` caught up with ``updateRevision``.
    """
    desired = summary["desired"]
    done = (summary["observed_generation"] or 0) >= (summary["generation"] or 0) and \
        summary["updated"] == desired and summary["total"] == desired and \
        summary["available"] == desired and summary["ready_replicas"] == desired
    if "update_revision" in summary and desired:
        done = done and summary["current_revision"] == summary["update_revision"]
    return done


def findings_for(summary, pods, target):
    ready, desired = summary["ready_replicas"], summary["desired"]
    if ready >= desired:
        status = OK
    else:
        status = CRITICAL if ready == 0 else WARNING
    findings = [make_finding("workload_ready", status, "%s has %d of %d replicas ready" % (target, ready, desired),
                             value=ready, threshold={"expected": desired}, unit="replicas", target=target)]
    for pod in pods:
        problem = pod_problem(pod)
        if problem:
            findings.append(make_finding("workload_pod", CRITICAL, problem, value=pod["restarts"], unit="restarts",
                                         state=pod["reason"], target=pod["name"]))
    return findings


def images(obj):
    """``{container: image}`` of the pod template."""
    return dict((c.name, c.image) for c in obj.spec.template.spec.containers)


def _summary(api, obj):
    return summarize(obj, api.resource, api.history(obj) if api.resource == "statefulset" else None)


def _result(api, obj):
    summary = _summary(api, obj)
    pods = [pod_row(p) for p in api.pods(obj)]
    findings = findings_for(summary, pods, api.target)
    return dict(summary, kind="kubernetes", resource=api.resource, workload=api.target, pods=pods, images=images(obj),
                findings=findings, status=overall(findings), ready=rollout_complete(summary))


def status(params, check_mode):
    api = _Api(params)
    return _result(api, api.read())


def _wait(api):
    obj = api.read()
    while not rollout_complete(summarize(obj, api.resource)) and time.time() < api.deadline:
        time.sleep(min(0.5, max(0.05, api.deadline - time.time())))
        obj = api.read()
    summary = summarize(obj, api.resource)
    if not rollout_complete(summary):
        strategy = getattr(obj.spec, "update_strategy", None)
        hint = " (updateStrategy OnDelete: pods take the new template only when deleted)" if \
            strategy is not None and strategy.type == "OnDelete" else ""
        hint += pod_problems([pod_row(pod) for pod in api.pods(obj)])
        raise ServiceError("rollout of %s not complete after %ss: %d of %d replicas updated, %d ready%s" % (
            api.label, api.wait_seconds, summary["updated"], summary["desired"], summary["ready_replicas"], hint))
    return obj


def wait(params, check_mode):
    api = _Api(params)
    return dict(_result(api, _wait(api)), changed=False)


def _unchanged(api, why):
    """Nothing to do: wait for the workload as it is and say why in ``message``."""
    return dict(_result(api, _wait(api)), changed=False, message=why)


def _apply(api, obj, check_mode, action, body, detail, extra=None):
    """Patch ``body`` (dict: strategic merge; list: JSON patch), wait for the rollout, report."""
    before = _summary(api, obj)
    extra = dict(extra or {})
    if check_mode:  # the workload as it is, and what would be done
        result = _result(api, obj)
        result.update(extra, changed=True, actions=[make_action(action, api.target, True, True, "would " + detail)])
        return result
    api.patch(body)
    result = _result(api, _wait(api))
    result.update(extra, changed=True, previous_revision=before["revision"],
                  actions=[make_action(action, api.target, True, False, detail)])
    return result


def restart(params, check_mode):
    api = _Api(params)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
    return _apply(api, api.read(), check_mode, "restart", body, "rollout restart (%s=%s)" % (RESTARTED_AT, stamp))


def scale(params, check_mode):
    api = _Api(params)
    body = {"spec": {"replicas": params["replicas"]}}
    return _apply(api, api.read(), check_mode, "scale", body, "scale to %d replicas" % params["replicas"])


def stop(params, check_mode):
    """Scale to 0, remembering the replicas in an annotation for start (confirm checked by the dispatcher)."""
    api = _Api(params)
    obj = api.read()
    desired = summarize(obj, api.resource)["desired"]
    if desired == 0:
        return _unchanged(api, "%s is already scaled to 0" % api.label)
    body = {"metadata": {"annotations": {REPLICAS_BEFORE_STOP: str(desired)}}, "spec": {"replicas": 0}}
    return _apply(api, obj, check_mode, "stop", body, "scale %s from %d to 0 replicas (%s=%d)" % (
        api.label, desired, REPLICAS_BEFORE_STOP, desired))


def start(params, check_mode):
    """Scale a stopped workload back to the replicas recorded by stop (1 when none was recorded)."""
    api = _Api(params)
    obj = api.read()
    desired = summarize(obj, api.resource)["desired"]
    if desired > 0:
        return _unchanged(api, "%s is not stopped (%d replicas desired)" % (api.label, desired))
    recorded = (obj.metadata.annotations or {}).get(REPLICAS_BEFORE_STOP)
    replicas = int(recorded) if recorded and recorded.isdigit() and int(recorded) > 0 else 1
    body = {"metadata": {"annotations": {REPLICAS_BEFORE_STOP: None}}, "spec": {"replicas": replicas}}
    return _apply(api, obj, check_mode, "start", body, "scale %s from 0 to %d replicas (%s)" % (
        api.label, replicas, "recorded by stop" if recorded else "none recorded"))


def pick_container(obj, container, label):
    """The pod template container to update: the named one, or the only one."""
    containers = obj.spec.template.spec.containers
    names = [c.name for c in containers]
    if container:
        for candidate in containers:
            if candidate.name == container:
                return candidate
        raise InvalidInput("container: %s has no container %r (containers: %s)" % (label, container, ", ".join(names)))
    if len(containers) != 1:
        raise InvalidInput("container: %s has %d containers (%s); name the one to update" % (label, len(names), ", ".join(names)))
    return containers[0]


def update(params, check_mode):
    """``kubectl set image``: one container's image, then wait for the rollout."""
    api = _Api(params)
    obj = api.read()
    target = pick_container(obj, params.get("container"), api.label)
    image, old = params["image"], target.image
    extra = {"container": target.name, "image": image, "previous_image": old}
    if image == old:
        return dict(_unchanged(api, "container %s of %s already runs %s" % (target.name, api.label, image)), **extra)
    body = {"spec": {"template": {"spec": {"containers": [{"name": target.name, "image": image}]}}}}
    return _apply(api, obj, check_mode, "update", body, "set image of container %s from %s to %s" % (target.name, old, image), extra)


def _template_of(api, entry):
    """The pod template a ReplicaSet carries, without ``pod-template-hash`` (kubectl rollout undo)."""
    template = api.to_dict(entry.spec.template)
    labels = (template.get("metadata") or {}).get("labels") or {}
    labels.pop(TEMPLATE_HASH, None)
    return template


def _rollback_target(api, obj, wanted):
    history = api.history(obj)
    current = _summary(api, obj)["revision"]
    kept = ", ".join(str(r) for r in sorted(history)) or "none"
    if wanted is None:
        older = [rev for rev in history if rev < current]
        if not older:
            raise ServiceError("rollback: %s has no previous revision to roll back to (current revision %d, revisions kept: %s)" % (
                api.label, current, kept))
        wanted = max(older)
    elif wanted not in history:
        raise InvalidInput("revision: %s has no revision %d (revisions kept: %s)" % (api.label, wanted, kept))
    return wanted, current, history[wanted]


def rollback(params, check_mode):
    """``kubectl rollout undo [--to-revision]``, then wait for the rollout."""
    api = _Api(params)
    obj = api.read()
    wanted, current, entry = _rollback_target(api, obj, params.get("revision"))
    if api.resource == "deployment":
        template = _template_of(api, entry)
        restored = dict((c["name"], c.get("image")) for c in template["spec"]["containers"])
        if wanted == current or template == _template_of(api, obj):
            return dict(_unchanged(api, "skipped rollback: the current template of %s already matches revision %d" % (api.label, wanted)),
                        rolled_back_to=wanted)
        body = [{"op": "replace", "path": "/spec/template", "value": template}]
    else:
        if wanted == current:
            return dict(_unchanged(api, "skipped rollback: %s is already at revision %d" % (api.label, wanted)), rolled_back_to=wanted)
        body = entry.data  # the StatefulSet controller's own patch: {"spec": {"template": {..., "$patch": "replace"}}}
        restored = dict((c["name"], c.get("image")) for c in body["spec"]["template"]["spec"]["containers"])
    extra = {"rolled_back_to": wanted, "previous_images": images(obj), "restored_images": restored}
    return _apply(api, obj, check_mode, "rollback", body, "roll %s back from revision %d to revision %d (images %s)" % (
        api.label, current, wanted, ", ".join("%s=%s" % item for item in sorted(restored.items()))), extra)
