#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: log_scan
short_description: Count error patterns in log files, the journal, pod and container logs over a time window
version_added: "0.1.0"
description:
  - Reads log files (the last O(max_bytes) of each), optionally the systemd journal, and the logs of
    Kubernetes pods (O(pod_selector) or O(pod_workload), the last O(max_bytes) per container) and of
    docker compose containers (O(project), O(services), the last O(max_lines) per container), keeps the
    lines of the last O(since_minutes) minutes and counts the lines matching each pattern; each count is
    compared with the pattern's thresholds and reported as a finding, with the last matching lines.
  - The default patterns are the ones the seed runbooks search for by hand (C(ERROR), C(WARN),
    slow/timeout/latency, C(EADDRINUSE), C(ECONNREFUSED), out of memory, failed logins).
  - Pod and container log lines are read with the time Kubernetes or the Docker engine recorded
    (C(kubectl logs --timestamps --since), C(docker logs --timestamps --since)), so the window holds for applications that print no timestamp of their own.
  - A line's time is the ISO-8601 (C(2026-01-01T10:00:00Z), C(2026-01-01 10:00:00,123)) or syslog
    (C(Jan  1 10:00:00), read as UTC) timestamp at its start; a line without one inherits the time of
    the line before it (stack traces).
  - A missing or unreadable source is an V(unknown) finding, not a task failure.
  - Read-only.
options:
  paths:
    description: Log files to read; shell globs are expanded.
    type: list
    elements: path
    default: []
  journal:
    description: Also read the systemd journal with C(journalctl).
    type: bool
    default: false
  journal_units:
    description: Restrict the journal to these units (C(journalctl -u)).
    type: list
    elements: str
    default: []
  journal_directory:
    description: Read the journal files of this directory (C(journalctl -D)) instead of the system journal.
    type: path
  since_minutes:
    description: Length of the time window, ending now.
    type: float
    default: 60
  include_untimed:
    description: Count lines that come before the first timestamp of a file (for logs without timestamps).
    type: bool
    default: false
  patterns:
    description:
      - Patterns to count, each C({name, regex, warn, crit}); C(warn) and C(crit) are line counts at or
        above which the status is V(warning) or V(critical) (either may be null); with C(strict=true) only
        counts above them (C(> 20), as the runbooks word it).
      - C(group_by) also counts the matching lines per key and judges each key against C(group_warn) and
        C(group_crit) (default C(warn) and C(crit)) - V(ip) is the line's client address (after C(from),
        C(rhost=), C(ip=), C(client_ip=), C(remote_addr=), else the first IPv4 address), any other name the
        regex's named group C((?P<name>...)). One finding per key over a threshold, else one V(ok) finding.
      - Empty means the default seed patterns (C(failed_login) is ConectCRM's MultipleFailedLogins, more
        than 20).
    type: list
    elements: dict
    default: []
  last_lines:
    description: Number of last matching lines kept per pattern.
    type: int
    default: 5
  max_bytes:
    description: Bytes read from the end of each file.
    type: int
    default: 20971520
  timeout:
    description: Seconds C(journalctl), and each Kubernetes API request (at most 30), may take.
    type: float
    default: 30
  pod_selector:
    description: Read the logs of the pods matching this label selector (C(app=api,tier=web)) in O(namespace).
    type: str
  pod_workload:
    description: Read the logs of the pods of this Deployment or StatefulSet in O(namespace) (its own selector).
    type: str
  pod_container:
    description: Only this container of each pod; default is every container.
    type: str
  ref:
    description:
      - Read the logs of this workload, or of each of a list of them, with the logs its backend keeps - pods for
        V(kubernetes), containers for V(compose), the journal for V(systemd).
      - Each a workload reference as the M(opsbook.runbooks.workload) module takes it - a string V(bff),
        V(deployment/worker), V(statefulset/kafka), V(compose/backend), V(systemd/etl-service), or a dict
        C({kind, name, resource, namespace, project, docker_host}); what it does not say comes from O(namespace),
        O(project), O(docker_host) and the systemd options.
    type: raw
    aliases: [workloads]
  project:
    description:
      - The docker compose project - the default project of compose references in O(ref) (usually from
        C(opsbook_docker) through module_defaults).
      - Its containers' logs (stdout and stderr) are read when O(services) names some of its services, or when
        nothing else is given to read (every service).
    type: str
  services:
    description: Read the containers of these services of O(project).
    type: list
    elements: str
    default: []
  max_lines:
    description: Last lines read from each container's log.
    type: int
    default: 10000
extends_documentation_fragment:
  - opsbook.runbooks.kubernetes
  - opsbook.runbooks.docker
  - opsbook.runbooks.systemd
attributes:
  check_mode:
    support: full
    description: The module is read-only and runs the same in check mode.
notes:
  - Supports check_mode.
  - Pod sources need the C(kubernetes) Python client; container sources use the Docker Engine API with the
    Python standard library. An unreachable Kubernetes API or Docker engine is a V(critical) finding; a workload
    or service without pods or containers, or a log that cannot be read, is an V(unknown) C(log_source) finding.
seealso:
  - module: opsbook.runbooks.http_health
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Errors in the API log in the last 15 minutes
  opsbook.runbooks.log_scan:
    paths: [/var/log/conectcrm/api*.log]
    since_minutes: 15
  register: api_logs

- name: Port conflicts and refused connections in the unit's journal
  opsbook.runbooks.log_scan:
    journal: true
    journal_units: [conectcrm-api.service]
    patterns:
      - {name: eaddrinuse, regex: EADDRINUSE, crit: 1}
      - {name: econnrefused, regex: ECONNREFUSED, warn: 1, crit: 10}

- name: Errors in the backend pods' logs of the last 15 minutes (kubectl logs deployment/backend)
  opsbook.runbooks.log_scan:
    pod_workload: backend
    namespace: production
    since_minutes: 15

- name: Slow requests in the logs of the API workloads, wherever they run
  opsbook.runbooks.log_scan:
    ref: [bff, compose/backend, systemd/etl-service]
    namespace: production
    project: conectsuite
    patterns:
      - {name: slow, regex: "(?i)slow|timeout|latency", warn: 1}

- name: Failed SSH logins per source address in the last 5 minutes (more than 20 from one address is a warning)
  opsbook.runbooks.log_scan:
    journal: true
    journal_units: [ssh.service]
    since_minutes: 5
    patterns:
      - {name: failed_login, regex: "Failed password for", group_by: ip, warn: 20, strict: true}

- name: Refused connections and port conflicts in the compose backend's logs (docker logs conectsuite-backend)
  opsbook.runbooks.log_scan:
    project: conectsuite
    services: [backend]
    docker_host: unix:///var/run/docker.sock
    since_minutes: 30
"""

RETURN = r"""
status:
  description: Worst status among the findings.
  returned: always
  type: str
  sample: warning
findings:
  description:
    - One C(log_pattern_<name>) finding per pattern, plus a C(log_source) finding per unreadable source.
    - Per pattern with C(group_by), C(log_pattern_<name>_by_<group_by>) findings (target the key).
  returned: always
  type: list
  elements: dict
  sample:
    - check: log_pattern_error
      status: warning
      value: 12
      threshold: {warn: 10, crit: 100, direction: above}
      unit: lines
      message: "error lines matching \\bERROR\\b in the last 60 min is 12 lines, at or above the warning threshold of 10 lines"
      target: /var/log/app.log
counts:
  description: Matching lines per pattern name.
  returned: always
  type: dict
  sample: {error: 12, warn: 3, eaddrinuse: 0}
groups:
  description: Per pattern with C(group_by), the matching lines per key (the 50 busiest, busiest first).
  returned: always
  type: dict
  sample: {failed_login: {"203.0.113.7": 25, "198.51.100.4": 3}}
last_matches:
  description: The last matching lines per pattern name (oldest first).
  returned: always
  type: dict
  sample: {error: ["2026-01-01T10:00:00Z ERROR db timeout"]}
sources:
  description: Per source C({source, lines_scanned, error}).
  returned: always
  type: list
  elements: dict
  sample:
    - {source: /var/log/app.log, lines_scanned: 1200, error: null}
    - {source: pod/production/backend-875bbd59b-brx8f/backend, lines_scanned: 4, error: null}
    - {source: container/conectsuite_backend_1, lines_scanned: 57, error: null}
window:
  description: The time window scanned, UTC.
  returned: always
  type: dict
  sample: {since: "2026-01-01T09:00:00Z", until: "2026-01-01T10:00:00Z"}
target:
  description: What was scanned.
  returned: always
  type: str
  sample: log sources
duration:
  description: Seconds the module took.
  returned: always
  type: float
  sample: 0.02
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.workload import log_scan as log_scan_utils
from ansible_collections.opsbook.runbooks.plugins.module_utils.docker.common import docker_common_argument_spec
from ansible_collections.opsbook.runbooks.plugins.module_utils.kubernetes.common import kubernetes_common_argument_spec
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_diagnostic
from ansible_collections.opsbook.runbooks.plugins.module_utils.workload.systemd_backend import systemd_argument_spec


def main():
    argument_spec = dict(
        paths=dict(type="list", elements="path", default=[]),
        journal=dict(type="bool", default=False),
        journal_units=dict(type="list", elements="str", default=[]),
        journal_directory=dict(type="path"),
        since_minutes=dict(type="float", default=60),
        include_untimed=dict(type="bool", default=False),
        patterns=dict(type="list", elements="dict", default=[]),
        last_lines=dict(type="int", default=5),
        max_bytes=dict(type="int", default=20971520),
        timeout=dict(type="float", default=30),
        pod_selector=dict(type="str"),
        pod_workload=dict(type="str"),
        pod_container=dict(type="str"),
        project=dict(type="str"),
        services=dict(type="list", elements="str", default=[]),
        max_lines=dict(type="int", default=10000),
        ref=dict(type="raw", aliases=["workloads"]),
    )
    argument_spec.update(kubernetes_common_argument_spec())
    argument_spec.update(docker_common_argument_spec())
    argument_spec.update(systemd_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_diagnostic(module, "log_source", "log sources", lambda: log_scan_utils.log_scan(module.params))


if __name__ == "__main__":
    main()
