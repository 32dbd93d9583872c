#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kafka_consumer_lag
short_description: Report Kafka consumer group lag per partition and evaluate its trend
version_added: "0.1.0"
description:
  - For every consumer group, or those named in O(groups) or matching O(group_pattern),
    reports the group state, its members (member id, client id, host) and, per
    partition, the committed offset, the log-end offset and the lag, with totals per
    group and per topic. The numbers are those C(kafka-consumer-groups --describe) prints.
  - Partitions assigned to a member but without a committed offset are reported with
    C(committed_offset) and C(lag) null (the tool prints C(-)).
  - Evaluates the total lag of each group against a static threshold (the Techbra
    runbook alerts at 1000 messages) and, when O(samples) is 2 or more, the lag trend
    over O(samples) readings O(interval) seconds apart, after Burrow's rules.
  - "Trend statuses per partition: V(OK) (lag reached 0 or is falling), V(WARNING)
    (offsets advance but lag never falls), V(STOP) (offset unchanged with lag and no
    active member owns the partition), V(STALL) (offset unchanged with lag although a
    live member owns it), V(REWIND) (the committed offset went backwards). A group is
    V(ERROR) when a partition is V(STOP), V(STALL) or V(REWIND)."
  - An unreachable cluster is a V(critical) finding within O(request_timeout).
  - Read-only; never joins a group or commits an offset.
options:
  groups:
    description: Consumer groups to report, by exact name. With O(group_pattern), the union of both.
    type: list
    elements: str
    default: []
  group_pattern:
    description:
      - Regular expression (Python C(re.search)) selecting groups by name.
      - With neither O(groups) nor O(group_pattern), every group is reported.
    type: str
  lag_warn:
    description: Total lag of a group (messages) at or above which its status is V(warning).
    type: int
  lag_crit:
    description: Total lag of a group at or above which its status is V(critical). The Techbra seed uses 1000.
    type: int
    default: 1000
  samples:
    description:
      - Number of readings for the trend evaluation (1 to 100). With 1, only the static
        threshold is evaluated.
    type: int
    default: 1
  interval:
    description: Seconds between readings (above 0, at most 600).
    type: float
    default: 5.0
extends_documentation_fragment:
  - opsbook.runbooks.kafka
attributes:
  check_mode:
    support: full
    description: The module is read-only and runs the same in check mode.
notes:
  - Supports check_mode.
  - The module takes O(samples) x O(interval) seconds, plus the requests.
  - Kafka does not expose commit timestamps through its API, so STOP and STALL are
    told apart by group membership rather than by commit times as Burrow does.
  - C(COORDINATOR_LOAD_IN_PROGRESS), seen right after a broker restart, is retried once.
seealso:
  - module: opsbook.runbooks.kafka_cluster_info
  - module: opsbook.runbooks.kafka_topic
  - name: Burrow consumer lag evaluation rules
    description: The rules the trend evaluation is modelled on.
    link: https://github.com/linkedin/Burrow/wiki/Consumer-Lag-Evaluation-Rules
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Lag of the order service (Techbra runbook, alert at 1000)
  opsbook.runbooks.kafka_consumer_lag:
    bootstrap_servers: ["kafka.techbra-test.svc:9092"]
    groups: [order-service-group]
  register: lag

- name: Trend of every *-service-group over 5 readings 10 s apart
  opsbook.runbooks.kafka_consumer_lag:
    bootstrap_servers: ["127.0.0.1:9092"]
    group_pattern: "-service-group$"
    samples: 5
    interval: 10
  register: lag_trend
"""

RETURN = r"""
status:
  description: Worst status among the findings.
  returned: always
  type: str
  sample: critical
findings:
  description:
    - Findings C({check, status, value, threshold, unit, message, target}). Per group
      C(kafka_consumer_lag) (static threshold on the total lag) and, with O(samples) > 1,
      C(kafka_consumer_lag_trend) (value is the trend status).
  returned: always
  type: list
  elements: dict
  sample:
    - check: kafka_consumer_lag_trend
      status: critical
      value: ERROR
      threshold: null
      unit: null
      message: "group billing is ERROR over 3 samples 1.0s apart: billing.events-0 STOP: no consumer committed ..."
      target: billing
groups:
  description: One entry per selected group, from the last reading.
  returned: when reachable
  type: list
  elements: dict
  contains:
    group:
      description: Group id.
      type: str
    found:
      description: False when the group does not exist (no members, no offsets).
      type: bool
    state:
      description: Group state as Kafka's tool spells it (C(Stable), C(Empty), C(Dead)...).
      type: str
    members:
      description: Members C({member_id, client_id, host, partitions}).
      type: list
      elements: dict
    partitions:
      description:
        - Rows C({topic, partition, committed_offset, log_end_offset, lag, consumer_id, host, client_id});
          C(committed_offset) and C(lag) are null when the partition has no committed offset.
      type: list
      elements: dict
    total_lag:
      description: Sum of the known lags.
      type: int
    topics:
      description: Per topic C({lag, partitions, partitions_without_offset}).
      type: dict
    partitions_without_offset:
      description: Partitions (C(topic-partition)) with no committed offset.
      type: list
      elements: str
    max_lag:
      description: The partition with the largest lag, C({partition, lag}), or null.
      type: dict
    trend:
      description:
        - With O(samples) > 1, C({status, reason, partitions}); each partition has
          C({topic, partition, status, reason, offsets, lags}). Null otherwise.
      type: dict
  sample:
    - group: order-service-group
      found: true
      state: Stable
      members: [{member_id: order-1-4f1c, client_id: order-1, host: /10.0.0.7, partitions: [order.events-0]}]
      partitions:
        - {topic: order.events, partition: 0, committed_offset: 120, log_end_offset: 1500, lag: 1380,
           consumer_id: order-1-4f1c, host: /10.0.0.7, client_id: order-1}
      total_lag: 1380
      topics: {order.events: {lag: 1380, partitions: 1, partitions_without_offset: 0}}
      partitions_without_offset: []
      max_lag: {partition: order.events-0, lag: 1380}
      trend: null
total_lag:
  description: Sum of the total lag of every selected group.
  returned: when reachable
  type: int
  sample: 1380
samples:
  description: Number of readings taken.
  returned: when reachable
  type: int
  sample: 1
reachable:
  description: Whether the cluster answered.
  returned: when unreachable
  type: bool
  sample: false
target:
  description: The bootstrap servers used.
  returned: always
  type: str
  sample: 127.0.0.1:19092
duration:
  description: Seconds the module took.
  returned: always
  type: float
  sample: 0.2
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import common as kafka_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import lag as kafka_lag
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_diagnostic


def main():
    argument_spec = kafka_common.kafka_common_argument_spec()
    argument_spec.update(
        groups=dict(type="list", elements="str", default=[]),
        group_pattern=dict(type="str"),
        lag_warn=dict(type="int"),
        lag_crit=dict(type="int", default=1000),
        samples=dict(type="int", default=1),
        interval=dict(type="float", default=5.0),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    run_diagnostic(
        module,
        "kafka_reachable",
        kafka_common.describe_target(params),
        lambda: kafka_lag.consumer_lag(params),
    )


if __name__ == "__main__":
    main()
