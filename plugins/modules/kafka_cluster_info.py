#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kafka_cluster_info
short_description: Diagnose an Apache Kafka cluster and report findings
version_added: "0.1.0"
description:
  - Reads the cluster metadata through the Kafka AdminClient and reports
    reachability with latency, brokers, the active controller, topics with their
    partition counts, and under-replicated or offline partitions as findings, and
    partitions whose ISR shrank below C(min.insync.replicas) as a V(critical) finding.
  - An unreachable cluster is reported as a V(critical) finding within
    O(request_timeout), never as a hang or a task failure.
  - Read-only; never changes the cluster.
options:
  include_internal:
    description: Include internal topics such as C(__consumer_offsets) in the report.
    type: bool
    default: false
extends_documentation_fragment:
  - opsbook.runbooks.kafka
attributes:
  check_mode:
    support: full
    description: The module is read-only and runs the same in check mode.
notes:
  - Supports check_mode.
  - The Kafka protocol does not expose the brokers' software version; the report
    gives the cluster id, brokers and controller instead.
seealso:
  - module: opsbook.runbooks.pg_health
  - module: opsbook.runbooks.redis_health
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Check the event bus
  opsbook.runbooks.kafka_cluster_info:
    bootstrap_servers:
      - kafka-0.kafka:9092
      - kafka-1.kafka:9092
    request_timeout: 5
  register: kafka

- name: Check a SASL_SSL cluster
  opsbook.runbooks.kafka_cluster_info:
    bootstrap_servers: ["broker.example.com:9093"]
    security_protocol: SASL_SSL
    sasl_mechanism: SCRAM-SHA-512
    sasl_username: monitor
    sasl_password: "{{ vault_kafka_password }}"
"""

RETURN = r"""
status:
  description: Worst status among the findings.
  returned: always
  type: str
  sample: ok
findings:
  description: Findings C({check, status, value, threshold, unit, message, target}).
  returned: always
  type: list
  elements: dict
  sample:
    - check: kafka_reachable
      status: ok
      value: 12.5
      threshold: null
      unit: ms
      message: Kafka cluster q1Sh-9_ISia_zwGINzRvyQ answered in 12.5 ms with 1 broker(s)
      target: 127.0.0.1:19092
reachable:
  description: Whether the cluster answered.
  returned: always
  type: bool
  sample: true
target:
  description: The bootstrap servers used.
  returned: always
  type: str
  sample: 127.0.0.1:19092
latency_ms:
  description: Time of the metadata request, in milliseconds.
  returned: when reachable
  type: float
  sample: 12.5
cluster_id:
  description: The cluster id.
  returned: when reachable
  type: str
  sample: q1Sh-9_ISia_zwGINzRvyQ
controller_id:
  description: Broker id of the active controller.
  returned: when reachable
  type: int
  sample: 1
brokers:
  description: Brokers as C({id, host, port}).
  returned: when reachable
  type: list
  elements: dict
  sample: [{id: 1, host: 127.0.0.1, port: 19092}]
topics:
  description: Topics with their partition count and any metadata error.
  returned: when reachable
  type: dict
  sample: {order.events: {partitions: 3, error: null}}
under_replicated_partitions:
  description: Partitions (C(topic-partition)) whose ISR is smaller than their replica set.
  returned: when reachable
  type: list
  elements: str
  sample: []
isr_below_min:
  description:
    - Partitions whose in-sync replicas shrank below the topic's C(min.insync.replicas)
      (a V(critical) finding C(kafka_isr_below_min)), as C({partition, replicas, isr, min_isr}).
  returned: when reachable
  type: list
  elements: dict
  sample: [{partition: order.events-0, replicas: 3, isr: 1, min_isr: 2}]
offline_partitions:
  description: Partitions with no leader.
  returned: when reachable
  type: list
  elements: str
  sample: []
duration:
  description: Seconds the module took.
  returned: always
  type: float
  sample: 0.02
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import common as kafka_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import diagnostics as kafka_diagnostics
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_diagnostic


def main():
    argument_spec = kafka_common.kafka_common_argument_spec()
    argument_spec.update(include_internal=dict(type="bool", default=False))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    run_diagnostic(
        module,
        "kafka_reachable",
        kafka_common.describe_target(params),
        lambda: kafka_diagnostics.cluster_info(params, params["include_internal"]),
    )


if __name__ == "__main__":
    main()
