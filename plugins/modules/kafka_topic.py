#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kafka_topic
short_description: List Kafka topics with message counts, describe a topic's configs, set configs
version_added: "0.1.0"
description:
  - Without O(name), lists the topics whose name matches O(pattern) (all topics when
    omitted), with their partition and message counts; e.g. the dead letter queues
    (C(.*dlq.*)) of the Techbra runbook. With O(warn_messages), a topic holding that
    many messages or more is a V(warning) finding.
  - With O(name) and no O(configs), describes the topic, its configs and which of them
    are overridden on the topic.
  - With O(name) and O(configs), sets the configs that differ (e.g. C(retention.ms)),
    idempotently, with check mode and diff support. Other configs are left alone.
  - An unreachable cluster is a V(critical) finding when listing or describing, and a
    failure when setting configs.
options:
  name:
    description: The topic to describe or configure.
    type: str
  pattern:
    description: Regular expression (Python C(re.search)) selecting topics to list. Ignored with O(name).
    type: str
  configs:
    description:
      - Topic configs to set on O(name), as a dict of config names and values; values are compared as
        Kafka's strings (C(604800000), C(delete), C(true)).
      - Unknown or read-only config names fail, naming the config.
    type: dict
  include_internal:
    description: List internal topics (C(__consumer_offsets)...) too.
    type: bool
    default: false
  message_counts:
    description: Count messages (latest minus earliest offset of each partition).
    type: bool
    default: true
  warn_messages:
    description: When listing, a topic holding this many messages or more is a V(warning) finding.
    type: int
extends_documentation_fragment:
  - opsbook.runbooks.kafka
attributes:
  check_mode:
    support: full
    description: In check mode, reports the configs that would change and changes nothing.
  diff_mode:
    support: full
    description: Returns the changed configs' values before and after.
notes:
  - Supports check_mode.
  - Message counts are offset differences; on compacted topics or with transactions
    they are an upper bound.
seealso:
  - module: opsbook.runbooks.kafka_messages
  - module: opsbook.runbooks.kafka_consumer_lag
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Dead letter queues holding messages (Techbra runbook, step 2)
  opsbook.runbooks.kafka_topic:
    bootstrap_servers: ["kafka.techbra-test.svc:9092"]
    pattern: ".*dlq.*"
    warn_messages: 1
  register: dlq

- name: Describe a topic
  opsbook.runbooks.kafka_topic:
    name: order.events
  register: order_events

- name: Keep order events for 7 days (Techbra clean-up)
  opsbook.runbooks.kafka_topic:
    name: order.events
    configs:
      retention.ms: 604800000
"""

RETURN = r"""
status:
  description: Worst status among the findings.
  returned: always
  type: str
  sample: warning
findings:
  description: Findings C({check, status, value, threshold, unit, message, target}).
  returned: always
  type: list
  elements: dict
  sample:
    - check: kafka_topic_messages
      status: warning
      value: 12
      threshold: {warn: 1, crit: null, direction: above}
      unit: messages
      message: message count of topic order.events.dlq is 12 messages, at or above the warning threshold of 1 messages
      target: order.events.dlq
topics:
  description: Topics listed (or the one described) as C({name, partitions, messages}).
  returned: when listing or describing
  type: list
  elements: dict
  sample: [{name: order.events.dlq, partitions: 3, messages: 12}]
topic:
  description:
    - The topic described or configured, C({name, partitions, messages, offsets, configs, overrides});
      after a change, C(configs) holds the values read back from the broker.
  returned: with O(name)
  type: dict
  sample: {name: order.events, partitions: 3, messages: 120, configs: {retention.ms: "604800000"},
           overrides: {retention.ms: "604800000"}, offsets: {"0": {earliest: 0, latest: 40}}}
changes:
  description: The configs that differ(ed), each as C({before, after}).
  returned: with O(configs)
  type: dict
  sample: {retention.ms: {before: "86400000", after: "604800000"}}
diff:
  description: The changed configs before and after.
  returned: with O(configs)
  type: dict
  sample: {before: {retention.ms: "86400000"}, after: {retention.ms: "604800000"}}
actions:
  description: Remediation record C({action, target, changed, dry_run, detail}).
  returned: with O(configs)
  type: list
  elements: dict
  sample: [{action: kafka_topic_set_configs, target: order.events, changed: true, dry_run: false,
            detail: retention.ms 86400000 -> 604800000}]
reachable:
  description: False when the cluster could not be reached (listing or describing).
  returned: when unreachable
  type: bool
  sample: false
target:
  description: The bootstrap servers used.
  returned: when listing or describing
  type: str
  sample: 127.0.0.1:19092
duration:
  description: Seconds the module took.
  returned: when listing or describing
  type: float
  sample: 0.05
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import common as kafka_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import topics as kafka_topics
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import OpsbookError, scrub
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_action, run_diagnostic


def main():
    argument_spec = kafka_common.kafka_common_argument_spec()
    argument_spec.update(
        name=dict(type="str"),
        pattern=dict(type="str"),
        configs=dict(type="dict"),
        include_internal=dict(type="bool", default=False),
        message_counts=dict(type="bool", default=True),
        warn_messages=dict(type="int"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        kafka_topics.validate_options(params)
    except OpsbookError as exc:
        module.fail_json(msg=scrub(str(exc), kafka_common.secrets_of(params)))
    if params["configs"]:
        run_action(module, lambda: kafka_topics.set_configs(params, module.check_mode))
    probe = kafka_topics.describe_topic if params["name"] else kafka_topics.list_topics
    run_diagnostic(module, "kafka_reachable", kafka_common.describe_target(params), lambda: probe(params))


if __name__ == "__main__":
    main()
