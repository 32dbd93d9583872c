#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kafka_payment_saga
short_description: Find failed payments without saga compensation and retry them
version_added: "0.1.0"
description:
  - Reads the failure events (O(failure_filter), e.g. C(PaymentFailed)) of
    O(failure_topic) and the compensation events (O(compensation_filter), e.g. the
    inventory release) of O(compensation_topic) without committing offsets, and
    classifies every failed order as compensated, recovered (a later success event),
    late (compensated after O(window)), pending (younger than O(window)) or stuck.
  - Stuck orders are a V(critical) finding (Techbra runbook §3, "Falha de Pagamento").
  - With O(remediate), POSTs O(retry_url) once per stuck order with an idempotency key
    derived from the failure event (the same key on every run), then reads the topics
    again until the retried orders resolve or O(recheck_timeout) passes.
  - In check mode, reports the calls it would make and sends nothing.
options:
  failure_topic:
    description: Topic with the payment events.
    type: str
    default: billing.events
  failure_filter:
    description: JMESPath expression selecting failure events.
    type: str
    default: "type == 'PaymentFailed'"
  success_filter:
    description: JMESPath expression selecting success events in O(failure_topic) that resolve an order; empty to ignore.
    type: str
    default: "type == 'PaymentSucceeded'"
  compensation_topic:
    description: Topic with the compensation events.
    type: str
    default: inventory.events
  compensation_filter:
    description: JMESPath expression selecting compensation events.
    type: str
    default: "type == 'InventoryReleased'"
  order_id_path:
    description: JMESPath expression giving the order id of an event (the message key when it yields nothing).
    type: str
    default: orderId
  window:
    description: Seconds within which a compensation must follow a failure (the saga timeout).
    type: float
    default: 300
  max_messages:
    description: Messages read per partition at most, for each topic.
    type: int
    default: 10000
  read_timeout:
    description: Seconds each topic read may take.
    type: float
    default: 10
  remediate:
    description: Call O(retry_url) for every stuck order.
    type: bool
    default: false
  retry_url:
    description:
      - Retry endpoint, with C({order_id}) in place of the order id, e.g.
        C(http://billing-service:8082/api/payments/{order_id}/retry) (the seed's admin endpoint).
      - Required with O(remediate).
    type: str
  retry_headers:
    description: Extra HTTP headers for the retry call.
    type: dict
    default: {}
  retry_token:
    description: Bearer token for the retry endpoint. Never logged.
    type: str
  idempotency_header:
    description: Header carrying the idempotency key.
    type: str
    default: Idempotency-Key
  retry_timeout:
    description: Seconds each retry call may take.
    type: float
    default: 10
  validate_certs:
    description: Verify the endpoint's TLS certificate.
    type: bool
    default: true
  max_retries:
    description: Refuse to retry (and say so) when more orders than this are stuck; a guard against mass retries.
    type: int
    default: 20
  recheck_timeout:
    description: Seconds to wait for the retried orders to resolve.
    type: float
    default: 30
extends_documentation_fragment:
  - opsbook.runbooks.kafka
attributes:
  check_mode:
    support: full
    description: In check mode, reports the retries it would send and sends none.
notes:
  - Supports check_mode.
  - The idempotency key is C(opsbook-saga-<order>-<topic>-<partition>-<offset>) of the failure event.
seealso:
  - module: opsbook.runbooks.kafka_messages
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Stuck orders of the Techbra payment saga
  opsbook.runbooks.kafka_payment_saga:
    bootstrap_servers: ["kafka.techbra-test.svc:9092"]
    window: 300
  register: saga

- name: Retry them through the billing admin endpoint
  opsbook.runbooks.kafka_payment_saga:
    bootstrap_servers: ["kafka.techbra-test.svc:9092"]
    remediate: true
    retry_url: "http://billing-service.techbra-test.svc:8082/api/payments/{order_id}/retry"
    retry_token: "{{ vault_billing_admin_token }}"
"""

RETURN = r"""
status:
  description: Worst status among the findings.
  returned: always
  type: str
  sample: critical
findings:
  description: Findings C({check, status, value, threshold, unit, message, target}).
  returned: always
  type: list
  elements: dict
  sample:
    - check: payment_saga_stuck_orders
      status: critical
      value: 2
      threshold: {warn: null, crit: 1, direction: above}
      unit: orders
      message: "2 order(s) have a PaymentFailed event and no compensation within 300s: ORDER1, ORDER7"
      target: billing.events -> inventory.events
orders:
  description:
    - Failed orders by class (C(stuck), C(late), C(pending), C(compensated), C(recovered)), each
      C({order_id, failed_at, compensated_at, event}); times in epoch milliseconds.
  returned: when reachable
  type: dict
  sample: {stuck: [{order_id: ORDER1, failed_at: 1763884800000, compensated_at: null,
                    event: {topic: billing.events, partition: 0, offset: 17}}], late: [], pending: [],
           compensated: [], recovered: []}
counts:
  description: Number of orders per class.
  returned: when reachable
  type: dict
  sample: {stuck: 1, late: 0, pending: 0, compensated: 3, recovered: 0}
read:
  description: Events read and matched per kind.
  returned: when reachable
  type: dict
  sample: {failures_read: 41, failures: 4, compensations: 3, successes: 0}
actions:
  description: Retry calls C({action, target, changed, dry_run, detail}).
  returned: when reachable
  type: list
  elements: dict
  sample: [{action: payment_retry, target: ORDER1, changed: true, dry_run: false,
            detail: "POST http://billing:8082/api/payments/ORDER1/retry -> HTTP 202 (Idempotency-Key opsbook-saga-ORDER1-billing.events-0-17)"}]
after:
  description: C({orders, counts}) read again after the retries.
  returned: after retries were sent
  type: dict
  sample: {counts: {stuck: 0, late: 1, pending: 0, compensated: 3, recovered: 0}}
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
  sample: 0.4
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import common as kafka_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import saga as kafka_saga
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_diagnostic


def main():
    argument_spec = kafka_common.kafka_common_argument_spec()
    argument_spec.update(
        failure_topic=dict(type="str", default="billing.events"),
        failure_filter=dict(type="str", default="type == 'PaymentFailed'"),
        success_filter=dict(type="str", default="type == 'PaymentSucceeded'"),
        compensation_topic=dict(type="str", default="inventory.events"),
        compensation_filter=dict(type="str", default="type == 'InventoryReleased'"),
        order_id_path=dict(type="str", default="orderId"),
        window=dict(type="float", default=300),
        max_messages=dict(type="int", default=10000),
        read_timeout=dict(type="float", default=10),
        remediate=dict(type="bool", default=False),
        retry_url=dict(type="str"),
        retry_headers=dict(type="dict", default={}),
        retry_token=dict(type="str", no_log=True),
        idempotency_header=dict(type="str", default="Idempotency-Key"),
        retry_timeout=dict(type="float", default=10),
        validate_certs=dict(type="bool", default=True),
        max_retries=dict(type="int", default=20),
        recheck_timeout=dict(type="float", default=30),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    run_diagnostic(
        module,
        "kafka_reachable",
        kafka_common.describe_target(params),
        lambda: kafka_saga.saga_check(params, module.check_mode),
    )


if __name__ == "__main__":
    main()
