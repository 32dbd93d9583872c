#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kafka_messages
short_description: Read, filter and count messages of a Kafka topic without committing offsets
version_added: "0.1.0"
description:
  - Reads the last (O(start=end)) or first (O(start=beginning)) O(count) messages of
    each partition of O(topic), keeps the newest (or oldest) O(count) of them, and
    returns those matching O(regex) and O(jmespath) with key, value, parsed JSON,
    headers, timestamp, partition and offset, plus how many were read and matched.
  - Never joins a consumer group and never commits an offset; the reader is assigned
    partitions at explicit offsets. Bounded by O(count) and O(timeout); when the time
    runs out the result says so (C(complete) false, a V(warning) finding).
  - The replacement for C(kafka-console-consumer --from-beginning | grep PaymentFailed).
options:
  topic:
    description: Topic to read.
    type: str
    required: true
  start:
    description: Read the newest (V(end)) or the oldest (V(beginning)) messages.
    type: str
    choices: [end, beginning]
    default: end
  count:
    description: Number of messages to read (per partition window, and in total), 1 to 100000.
    type: int
    default: 100
  partitions:
    description: Only these partitions.
    type: list
    elements: int
  regex:
    description: Keep messages whose value matches this regular expression (Python C(re.search)).
    type: str
  jmespath:
    description:
      - Keep messages whose value is JSON and for which this JMESPath expression is truthy,
        e.g. C(type == 'PaymentFailed'). Needs the C(jmespath) library.
    type: str
  timeout:
    description: Seconds the reading may take at most (above 0, at most 600).
    type: float
    default: 10.0
extends_documentation_fragment:
  - opsbook.runbooks.kafka
attributes:
  check_mode:
    support: full
    description: The module is read-only and runs the same in check mode.
notes:
  - Supports check_mode.
  - Values are decoded as UTF-8 (invalid bytes replaced); C(json) is null when the value is not JSON.
seealso:
  - module: opsbook.runbooks.kafka_topic
  - module: opsbook.runbooks.kafka_payment_saga
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: PaymentFailed events in billing.events (Techbra runbook §3)
  opsbook.runbooks.kafka_messages:
    bootstrap_servers: ["kafka.techbra-test.svc:9092"]
    topic: billing.events
    start: beginning
    count: 10000
    jmespath: "type == 'PaymentFailed'"
  register: payment_failed

- name: The last 20 messages of a dead letter queue mentioning a timeout
  opsbook.runbooks.kafka_messages:
    topic: order.events.dlq
    count: 20
    regex: "(?i)timeout"
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
    - check: kafka_messages_read
      status: ok
      value: 3
      threshold: null
      unit: null
      message: "the first 10000 message(s) of each partition of billing.events: 3 of 41 message(s) read match"
      target: billing.events
messages:
  description: The matching messages, oldest first.
  returned: when reachable
  type: list
  elements: dict
  sample:
    - {topic: billing.events, partition: 0, offset: 17, timestamp: 1763884800000, key: ORDER123,
       value: '{"type": "PaymentFailed", "orderId": "ORDER123"}', json: {type: PaymentFailed, orderId: ORDER123},
       headers: {source: billing-service}}
read:
  description: Number of messages read.
  returned: when reachable
  type: int
  sample: 41
matched:
  description: Number of messages read that match the filters.
  returned: when reachable
  type: int
  sample: 3
complete:
  description: Whether the whole window was read within O(timeout).
  returned: when reachable
  type: bool
  sample: true
window:
  description: Offsets read per partition, C({first, end}) (end exclusive).
  returned: when reachable
  type: dict
  sample: {"0": {first: 0, end: 41}}
reachable:
  description: False when the cluster could not be reached.
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
  sample: 0.3
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import common as kafka_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import messages as kafka_messages
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_diagnostic


def main():
    argument_spec = kafka_common.kafka_common_argument_spec()
    argument_spec.update(
        topic=dict(type="str", required=True),
        start=dict(type="str", choices=["end", "beginning"], default="end"),
        count=dict(type="int", default=100),
        partitions=dict(type="list", elements="int"),
        regex=dict(type="str"),
        jmespath=dict(type="str"),
        timeout=dict(type="float", default=10.0),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    run_diagnostic(
        module,
        "kafka_reachable",
        kafka_common.describe_target(params),
        lambda: kafka_messages.read_messages(params),
    )


if __name__ == "__main__":
    main()
