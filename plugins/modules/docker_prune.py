#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: docker_prune
short_description: Prune stopped containers, unused images, volumes and networks of a Docker engine
version_added: "0.1.0"
description:
  - Calls the engine's prune endpoints (what C(docker container/image/volume/network prune -f) do) for the kinds
    set to V(true) and reports what went and the bytes reclaimed as the engine reports them (C(SpaceReclaimed)).
  - O(filters) scope every prune (C(label), C(label!), C(until)), for example to what carries a label of your own;
    C(until) does not apply to volumes.
  - Seeds ConectCRM DiskSpaceRunningOut (C(docker image prune -a --filter "until=168h") and C(docker volume prune)),
    SparkOne cleanup (image, volume and network prune), ML Bling (C(docker system prune -af)).
options:
  containers:
    description: Remove stopped containers.
    type: bool
    default: false
  images:
    description: Remove dangling images (every image no container uses with O(all_images)).
    type: bool
    default: false
  all_images:
    description: With O(images), also remove tagged images no container uses (C(docker image prune -a)).
    type: bool
    default: false
  volumes:
    description: Remove volumes no container uses.
    type: bool
    default: false
  networks:
    description: Remove networks no container uses.
    type: bool
    default: false
  filters:
    description: Prune filters C({label, label!, until}), each a string or a list of strings (C(label) V(key=value) or V(key)).
    type: dict
    default: {}
  timeout:
    description: Timeout in seconds of each engine request (prunes get 30 s more).
    type: float
    default: 30
extends_documentation_fragment:
  - opsbook.runbooks.docker
attributes:
  check_mode:
    support: full
    description: In check mode nothing is removed; C(pruned[].removed) lists the candidates with the same filters.
notes:
  - Supports check_mode.
seealso:
  - module: opsbook.runbooks.file_cleanup
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: ConectCRM - images older than a week and orphan volumes
  opsbook.runbooks.docker_prune:
    images: true
    all_images: true
    volumes: true
    filters: {until: 168h}

- name: Only what carries our label
  opsbook.runbooks.docker_prune:
    containers: true
    volumes: true
    filters: {label: ["com.example.prunable=true"]}
"""

RETURN = r"""
status:
  description: Worst status among the findings.
  returned: always
  type: str
  sample: ok
findings:
  description: One C(docker_prune) per kind, its value the bytes reclaimed.
  returned: always
  type: list
  elements: dict
  sample: [{check: docker_prune, status: ok, value: 1024, unit: bytes, target: docker containers, state: null,
            threshold: null, message: "pruned 1 containers, 1024 bytes reclaimed"}]
actions:
  description: One C(docker_prune) action per kind.
  returned: always
  type: list
  elements: dict
  sample: [{action: docker_prune, target: docker containers, changed: true, dry_run: false, detail: "pruned 1 containers, 1024 bytes reclaimed"}]
pruned:
  description: Per kind C({kind, removed, space_reclaimed}).
  returned: always
  type: list
  elements: dict
  sample: [{kind: containers, removed: [4c11b926594d0000], space_reclaimed: 1024}]
space_reclaimed:
  description: Bytes reclaimed over every kind (in check mode, the candidates' sizes where the engine tells them).
  returned: always
  type: int
  sample: 1024
filters:
  description: The filters used.
  returned: always
  type: dict
  sample: {label: ["com.example.prunable=true"]}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.docker import common as docker
from ansible_collections.opsbook.runbooks.plugins.module_utils.docker import prune as docker_prune
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_diagnostic


def main():
    argument_spec = docker.docker_common_argument_spec()
    argument_spec.update(
        containers=dict(type="bool", default=False),
        images=dict(type="bool", default=False),
        all_images=dict(type="bool", default=False),
        volumes=dict(type="bool", default=False),
        networks=dict(type="bool", default=False),
        filters=dict(type="dict", default={}),
        timeout=dict(type="float", default=30),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_diagnostic(module, "docker_prune", "Docker engine", lambda: docker_prune.run(module.params, module.check_mode))


if __name__ == "__main__":
    main()
