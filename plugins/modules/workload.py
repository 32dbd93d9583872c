#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: workload
short_description: Status, restart, scale, rollback and wait for a workload, whatever runs it
version_added: "0.1.0"
description:
  - One interface over the backends that run applications; the backend is chosen by O(kind),
    usually set per inventory host or group.
  - O(operation=status) is read-only and reports a backend that cannot be reached as a V(critical)
    finding; the other operations fail with one clear message on error.
  - V(kubernetes) works on a Deployment or a StatefulSet (O(resource)). C(restart) has C(kubectl rollout restart)
    semantics, C(update) is C(kubectl set image), C(rollback) is C(kubectl rollout undo [--to-revision]) (Deployment
    - the chosen ReplicaSet's pod template minus its C(pod-template-hash) label replaces the Deployment's; StatefulSet
    - the chosen ControllerRevision is applied); every change then waits for the rollout like C(kubectl rollout status)
    and reports the new revision. C(stop) scales to 0 and records the replica count in the annotation
    C(opsbook.io/replicas-before-stop); C(start) scales back to it (1 when none is recorded).
  - V(compose) works on the containers of one service of a docker compose project (labels C(com.docker.compose.project)
    and C(com.docker.compose.service)), talking to the Docker engine directly (no compose binary). C(update) recreates
    each container from its own configuration with O(image), recording the image it ran in the label
    C(opsbook.previous-image); C(rollback) recreates it with that recorded image. The compose file is not edited, so a
    later C(docker-compose up) goes back to the file's image. C(scale) is refused (it needs the compose file).
  - V(systemd) works on a unit with C(systemctl) (C(status), C(restart), C(start), C(stop), C(wait)).
  - A scale to zero replicas and C(stop) need O(confirm) set to the workload's name.
  - The workload is O(ref) (one reference, as inventories write it) or O(kind) and O(name); what the reference does
    not say (namespace, kubeconfig, context, compose project, Docker engine, systemd scope) comes from the module's
    options, which the playbooks set from C(opsbook_kubernetes), C(opsbook_docker) and C(opsbook_systemd).
options:
  ref:
    description:
      - The workload as one reference - a string V(order-service) (a Kubernetes Deployment), V(deployment/worker),
        V(statefulset/kafka) (also C(deploy/), C(sts/), C(kubernetes/)), V(compose/backend) (a service of O(project)),
        V(systemd/etl-service) (a unit), or a dict C({kind, name, resource, namespace, project, docker_host}) whose
        keys override the module's options (C(replicas) and C(label), as the C(opsbook.runbooks.workload_refs) filter
        writes them, are ignored).
      - Mutually exclusive with O(kind) and O(name).
    type: raw
  kind:
    description: Backend that runs the workload; required with O(name).
    type: str
    choices: [kubernetes, compose, systemd]
  name:
    description:
      - The workload. V(kubernetes) - the Deployment or StatefulSet; V(compose) - the service; V(systemd) - the unit
        (O(systemd_unit_suffix) is added when no suffix is given). Required unless O(ref) is given.
    type: str
  operation:
    description:
      - What to do. V(status) is read-only. V(wait) waits until the workload is rolled out / running and healthy.
      - V(restart), V(start), V(stop), V(update), V(rollback) and V(scale) change the workload; which backend supports
        which is listed in the description (V(scale) - V(kubernetes) only; V(update), V(rollback) - V(kubernetes) and V(compose)).
    type: str
    default: status
    choices: [status, restart, scale, rollback, wait, start, stop, update]
  scale_down:
    description:
      - With V(false), O(operation=scale) only adds replicas - a workload already at or above O(replicas) keeps
        them, recorded as an unchanged C(scale) action (C(already at 5 replicas (target 3) - not scaled down)).
      - Only with O(operation=scale).
    type: bool
    default: true
    version_added: "0.2.0"
  replicas:
    description: Desired replicas for O(operation=scale).
    type: int
  revision:
    description:
      - Revision to roll back to for O(operation=rollback) (V(kubernetes) only); default is the previous one.
      - An unknown revision fails with the revisions that are kept.
    type: int
  image:
    description: New image reference for O(operation=update), e.g. C(registry.example.com/api:1.4.2).
    type: str
  container:
    description:
      - Container of the pod template to update with O(operation=update) (V(kubernetes)); required when the pod has
        more than one container.
    type: str
  resource:
    description: Kind of Kubernetes object (O(kind=kubernetes)).
    type: str
    default: deployment
    choices: [deployment, statefulset]
  project:
    description: The docker compose project name (C(docker-compose -p)); required for O(kind=compose).
    type: str
  confirm:
    description: The workload's name, required to scale it to zero and for O(operation=stop).
    type: str
  timeout:
    description:
      - Seconds to wait for the workload to become ready (each API call is bounded by the smaller of this and 30 s;
        a container stop may add its 10 s grace period).
    type: float
    default: 120
extends_documentation_fragment:
  - opsbook.runbooks.kubernetes
  - opsbook.runbooks.docker
  - opsbook.runbooks.systemd
attributes:
  check_mode:
    support: full
    description: Changing operations report what they would do (C(actions) with C(dry_run=true)) and change nothing.
notes:
  - Supports check_mode.
  - The systemd backend needs systemd as PID 1; in a container without it, O(operation=status) reports a
    V(critical) finding and changing operations fail.
  - In check mode changing operations read the workload (so a missing workload, revision or image still fails) and
    return C(actions) with C(dry_run=true) without changing anything.
  - V(compose) C(update)/C(rollback) keep the container's command, environment, labels, healthcheck, host config
    (binds, named volumes, network mode) and network aliases; anonymous volumes are not carried over.
  - A change the Kubernetes API forbids (403) is a V(critical) C(workload_permission) finding with
    C(state=permission_denied), nothing changed; the task does not fail. See C(docs/permissions.md).
seealso:
  - module: opsbook.runbooks.http_health
  - module: opsbook.runbooks.log_scan
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Is the API unit running?
  opsbook.runbooks.workload:
    ref: systemd/conectcrm-api
  register: api

- name: Rollout status of the worker Deployment (namespace, kubeconfig from module_defaults / opsbook_kubernetes)
  opsbook.runbooks.workload:
    ref: deployment/worker
    operation: wait

- name: Restart it and wait until it is active again
  opsbook.runbooks.workload:
    kind: systemd
    name: conectcrm-api
    operation: restart
    timeout: 60

- name: Status of the backend service of the conectsuite compose project
  opsbook.runbooks.workload:
    ref: compose/backend
    project: conectsuite
    docker_host: unix:///var/run/docker.sock

- name: Deploy a new image of the API Deployment and wait for the rollout
  opsbook.runbooks.workload:
    kind: kubernetes
    kubeconfig: /etc/opsbook/kubeconfig
    namespace: shop
    name: api
    operation: update
    image: registry.example.com/api:1.4.2
    container: api
  register: deploy

- name: Roll back to the revision before the deploy
  opsbook.runbooks.workload:
    kind: kubernetes
    namespace: shop
    name: api
    operation: rollback
    revision: "{{ deploy.previous_revision }}"

- name: Stop a StatefulSet (scale to 0, replicas remembered for start)
  opsbook.runbooks.workload:
    ref: statefulset/worker
    namespace: shop
    operation: stop
    confirm: worker
"""

RETURN = r"""
status:
  description: Worst status among the findings.
  returned: always
  type: str
  sample: ok
findings:
  description:
    - Findings C({check, status, value, threshold, unit, message, target}).
    - C(workload_ready) (ready replicas / containers against the desired number), C(workload_pod) (a pod in
      CrashLoopBackOff, ErrImagePull, ImagePullBackOff, OOMKilled...; C(state) is the reason, C(value) its restarts),
      C(workload_container) (a compose container stopped, OOMKilled, unhealthy or starting), C(workload_running) (systemd),
      C(workload_reachable) (backend unreachable, status only).
  returned: always
  type: list
  elements: dict
  sample:
    - check: workload_running
      status: critical
      value: failed
      threshold: null
      unit: null
      message: conectcrm-api.service is failed (result exit-code) (failed/failed, 3 restarts)
      target: conectcrm-api.service
actions:
  description: Remediation records C({action, target, changed, dry_run, detail}) of changing operations.
  returned: when the operation can change the workload
  type: list
  elements: dict
  sample: [{action: restart, target: conectcrm-api.service, changed: true, dry_run: true, detail: would run systemctl restart conectcrm-api.service}]
message:
  description: Why a changing operation changed nothing (already stopped, same image, rollback target equals the current template).
  returned: when a kubernetes operation had nothing to do
  type: str
  sample: container api of deployment shop/api already runs registry.example.com/api:1.4.2
kind:
  description: The backend used.
  returned: success
  type: str
  sample: kubernetes
resource:
  description: The Kubernetes object kind.
  returned: kind=kubernetes
  type: str
  sample: deployment
workload:
  description: The workload acted on, as the backend names it (C(namespace/name), C(project/service) or the unit).
  returned: success
  type: str
  sample: shop/api
ready:
  description: Whether the workload is rolled out and ready (all containers running and healthy for compose).
  returned: success
  type: bool
  sample: true
desired:
  description: Desired replicas (kubernetes) or the number of containers of the service (compose).
  returned: kind=kubernetes or kind=compose
  type: int
  sample: 2
ready_replicas:
  description: Ready replicas (kubernetes) or containers running and healthy (compose).
  returned: kind=kubernetes or kind=compose
  type: int
  sample: 2
updated:
  description: Replicas at the newest pod template.
  returned: kind=kubernetes
  type: int
  sample: 2
available:
  description: Available replicas.
  returned: kind=kubernetes
  type: int
  sample: 2
total:
  description: All replicas, old and new.
  returned: kind=kubernetes
  type: int
  sample: 2
generation:
  description: The object's metadata.generation.
  returned: kind=kubernetes
  type: int
  sample: 3
observed_generation:
  description: The generation the controller has acted on.
  returned: kind=kubernetes
  type: int
  sample: 3
revision:
  description:
    - The rollout revision now (Deployment - annotation C(deployment.kubernetes.io/revision); StatefulSet - the
      ControllerRevision number of C(status.updateRevision)). In check mode, the revision before the change.
  returned: kind=kubernetes
  type: int
  sample: 3
previous_revision:
  description: The revision before the change.
  returned: kind=kubernetes, a change that was made
  type: int
  sample: 2
current_revision:
  description: StatefulSet C(status.currentRevision) (ControllerRevision name).
  returned: resource=statefulset
  type: str
  sample: worker-5d8f7c9b6
update_revision:
  description: StatefulSet C(status.updateRevision) (ControllerRevision name).
  returned: resource=statefulset
  type: str
  sample: worker-5d8f7c9b6
pods:
  description:
    - Per pod C({name, phase, ready, restarts, reason, waiting, last_terminated}), read from the pod's status.
    - C(waiting) is a container's C(state.waiting.reason) when it is a failure (ErrImagePull, ImagePullBackOff, CrashLoopBackOff...);
      C(last_terminated) is a container's C(lastState.terminated.reason) (OOMKilled first, else Error...);
      C(reason) is the worst of the two (the waiting reason first); C(restarts) sums C(restartCount).
  returned: kind=kubernetes
  type: list
  elements: dict
  sample: [{name: api-7c9f-abcde, phase: Running, ready: true, restarts: 3, reason: OOMKilled, waiting: null, last_terminated: OOMKilled}]
images:
  description: Container name to image of the pod template, after the operation (before it in check mode).
  returned: kind=kubernetes
  type: dict
  sample: {api: registry.example.com/api:1.4.2}
image:
  description: The image set by O(operation=update) or restored by a compose rollback.
  returned: operation=update; kind=compose and operation=rollback
  type: str
  sample: registry.example.com/api:1.4.2
previous_image:
  description: The image the container ran before O(operation=update) (compose - also before rollback).
  returned: operation=update; kind=compose and operation=rollback
  type: str
  sample: registry.example.com/api:1.4.1
container:
  description: The pod template container that O(operation=update) changed.
  returned: kind=kubernetes and operation=update
  type: str
  sample: api
rolled_back_to:
  description: The revision whose template was restored.
  returned: kind=kubernetes and operation=rollback
  type: int
  sample: 1
previous_images:
  description: Container name to image before the rollback.
  returned: kind=kubernetes and operation=rollback, when it changes something
  type: dict
  sample: {api: registry.example.com/api:1.4.2}
restored_images:
  description: Container name to image of the revision rolled back to.
  returned: kind=kubernetes and operation=rollback, when it changes something
  type: dict
  sample: {api: registry.example.com/api:1.4.1}
containers:
  description:
    - Per container of the compose service C({name, id, service, image, state, running, health, failing_streak,
      restarts, exit_code, oom_killed, started_at, error}); health is V(healthy), V(unhealthy), V(starting) or null
      without a healthcheck.
  returned: kind=compose
  type: list
  elements: dict
  sample: [{name: conectsuite_backend_1, id: 0123456789ab, service: backend, image: "lab/busybox:1", state: running, running: true,
            health: healthy, failing_streak: 0, restarts: 0, exit_code: 0, oom_killed: false,
            started_at: "2026-01-01T10:00:00.0Z", error: null}]
units:
  description: Backend properties per unit (systemd C(systemctl show) properties).
  returned: kind=systemd
  type: list
  elements: dict
  sample: [{Id: conectcrm-api.service, LoadState: loaded, ActiveState: active, SubState: running, NRestarts: 0}]
reachable:
  description: False when the backend could not be reached (status only; the finding says why).
  returned: operation=status and the backend is unreachable
  type: bool
  sample: false
target:
  description: The workload checked.
  returned: operation=status
  type: str
  sample: systemd/conectcrm-api
duration:
  description: Seconds the module took.
  returned: operation=status
  type: float
  sample: 0.05
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.docker import common as docker_engine
from ansible_collections.opsbook.runbooks.plugins.module_utils.kubernetes import common as k8s_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.workload import dispatch as workload
from ansible_collections.opsbook.runbooks.plugins.module_utils.workload import ref as workload_ref
from ansible_collections.opsbook.runbooks.plugins.module_utils.workload.systemd_backend import systemd_argument_spec
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_action, run_diagnostic


def main():
    argument_spec = dict(
        ref=dict(type="raw"),
        kind=dict(type="str", choices=list(workload.KINDS)),
        name=dict(type="str"),
        operation=dict(type="str", default="status", choices=list(workload.OPERATIONS)),
        replicas=dict(type="int"),
        scale_down=dict(type="bool", default=True),
        revision=dict(type="int"),
        image=dict(type="str"),
        container=dict(type="str"),
        resource=dict(type="str", default="deployment", choices=["deployment", "statefulset"]),
        project=dict(type="str"),
        confirm=dict(type="str"),
        timeout=dict(type="float", default=120),
    )
    argument_spec.update(k8s_common.kubernetes_common_argument_spec())
    argument_spec.update(docker_engine.docker_common_argument_spec())
    argument_spec.update(systemd_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           mutually_exclusive=[("ref", "kind"), ("ref", "name")], required_one_of=[("ref", "name")],
                           required_together=[("kind", "name")])
    try:
        params = workload_ref.apply_ref(module.params)
    except InvalidInput as exc:
        module.fail_json(msg=str(exc))

    def call():
        return workload.dispatch(params, module.check_mode)

    if params["operation"] in workload.DIAGNOSTIC_OPERATIONS:
        run_diagnostic(module, "workload_reachable", "%s/%s" % (params["kind"], params["name"]), call)
    else:
        run_action(module, call, "workload_permission", "%s/%s" % (params["kind"], params["name"]))


if __name__ == "__main__":
    main()
