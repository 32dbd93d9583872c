#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: redis_queue
short_description: Measure queue backlogs in Redis, requeue dead letters, purge a queue
version_added: "0.1.0"
description:
  - Measures the backlog of named queues of any queue-like type, several times O(interval) apart,
    and tells whether it is growing, draining, stalled or empty (items per second, time to drain).
  - Lists (Celery/Kombu, RQ, plain C(LPUSH)/C(BRPOP)) count their length; streams count the worst
    consumer group's C(lag) plus C(pending) (the length when there is no group); sorted sets, sets and
    hashes count their members.
  - Optionally shows the next O(peek) items, moves items from a dead-letter list back to the main
    queue (O(requeue_from), O(requeue_to); one atomic C(LMOVE) per item), deletes a queue (O(purge))
    or empties the database (O(flushdb)).
  - O(purge) and O(flushdb) are refused unless O(confirm) names the target exactly.
options:
  queues:
    description: Names (keys) of the queues to measure, e.g. C(sync_queue) or a Celery queue name such as C(celery).
    type: list
    elements: str
    default: []
  celery:
    description: Also count Kombu's priority lists (C(<name>\x06\x16<1-9>)) and report the C(unacked) hash.
    type: bool
    default: false
  samples:
    description: How many times to measure each queue (1 to 60); two or more give a trend.
    type: int
    default: 3
  interval:
    description: Seconds between samples (0 to 60).
    type: float
    default: 1.0
  length_warn:
    description: Backlog (items) at which the status is V(warning). No seed gives a number; set it per queue.
    type: int
    default: 100
  length_crit:
    description: Backlog at which the status is V(critical).
    type: int
    default: 1000
  peek:
    description: Return the next this many items of each queue, in the order they would be consumed (0 to 100).
    type: int
    default: 0
  consume_from:
    description:
      - The end of a list consumers pop from. V(right) for Celery/Kombu (C(LPUSH) + C(BRPOP)),
        V(left) for RQ and Sidekiq (C(RPUSH)/C(LPUSH) + C(BLPOP)/C(BRPOP) from the other end).
      - Decides the peek order and, for a requeue, the end items are taken from (the dead-letter list)
        and pushed to (the producer's end of the main list).
    type: str
    choices: [left, right]
    default: right
  requeue_from:
    description: A dead-letter list to move items from; needs O(requeue_to).
    type: str
  requeue_to:
    description: The list to move the dead-letter items back to.
    type: str
  requeue_count:
    description: At most this many items are moved (1 to 100000).
    type: int
    default: 100
  purge:
    description:
      - Delete this queue (with O(celery), its priority lists too). Needs O(confirm) equal to this name.
    type: str
  flushdb:
    description:
      - Delete every key of the connected database (C(FLUSHDB), the seed runbooks' "limpar filas").
        Needs O(confirm) equal to C(db<number>), e.g. C(db0), and host/port/db rather than O(url).
    type: bool
    default: false
  confirm:
    description: The exact name of what O(purge) or O(flushdb) deletes; anything else refuses the action.
    type: str
extends_documentation_fragment:
  - opsbook.runbooks.redis
attributes:
  check_mode:
    support: full
    description: In check mode the queues are measured and the action reports what it would move or delete.
notes:
  - Supports check_mode.
  - Only one of O(requeue_from), O(purge) and O(flushdb) per task.
  - Without an action, an unreachable server is a V(critical) finding; with an action the task fails.
  - A command the ACL user may not run (C(NOPERM)) is a V(critical) C(redis_permission) finding with
    C(state=permission_denied), nothing changed; the task does not fail. See C(docs/permissions.md).
  - From the ML Bling runbook, "Sincronizações Falhando" (C(LLEN sync_queue), C(FLUSHDB)).
seealso:
  - module: opsbook.runbooks.redis_health
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Is the sync backlog draining?
  opsbook.runbooks.redis_queue:
    host: redis.ml-bling-sync.com
    queues: [sync_queue]
    samples: 5
    interval: 2
    length_warn: 500
    length_crit: 5000

- name: Celery queues with their priority lists, and the next 3 tasks
  opsbook.runbooks.redis_queue:
    url: "redis://:{{ vault_redis_password }}@broker:6379/0"
    queues: [celery, sync]
    celery: true
    peek: 3

- name: Put dead letters back on the main queue
  opsbook.runbooks.redis_queue:
    requeue_from: sync_queue:dead
    requeue_to: sync_queue
    requeue_count: 500

- name: Purge a queue (refused unless confirm names it)
  opsbook.runbooks.redis_queue:
    purge: sync_queue
    confirm: sync_queue
"""

RETURN = r"""
status:
  description: Worst status among the findings.
  returned: always
  type: str
  sample: warning
findings:
  description: C(redis_queue_backlog) per queue, C(redis_queue_trend) with two or more samples, C(redis_queue_type) for keys that are no queue.
  returned: always
  type: list
  elements: dict
  sample:
    - check: redis_queue_trend
      status: warning
      value: 12.5
      threshold: null
      unit: items/s
      message: "queue sync_queue is growing by 12.5 items/s over 2.0s: consumers are not keeping up"
      target: sync_queue@127.0.0.1:16379/0
queues:
  description:
    - Per queue, C(name), C(exists), C(keys), C(types), C(length) (items in all its keys), C(backlog)
      (what is left to consume), stream C(groups), C(samples) C([{t, length, backlog}]),
      C(rate_per_sec), C(trend) (V(growing), V(draining), V(stalled), V(empty), V(unknown)),
      C(eta_seconds) to drain, C(peek) when asked.
  returned: always
  type: list
  elements: dict
  sample:
    - name: sync_queue
      exists: true
      keys: [sync_queue]
      types: [list]
      unsupported: []
      length: 1200
      backlog: 1200
      groups: null
      samples: [{t: 1795420000.0, length: 1300, backlog: 1300}, {t: 1795420002.0, length: 1200, backlog: 1200}]
      rate_per_sec: -50.0
      trend: draining
      eta_seconds: 24.0
      peek: ['{"sku": "A-1"}']
celery_unacked:
  description: Messages in Kombu's C(unacked) hash (delivered, not yet acknowledged).
  returned: when O(celery=true) and queues are given
  type: int
  sample: 4
actions:
  description: What was done (or would be, in check mode) C({action, target, changed, dry_run, detail}).
  returned: always
  type: list
  elements: dict
  sample: [{action: requeue, target: "sync_queue:dead -> sync_queue@127.0.0.1:16379/0", changed: true,
            dry_run: false, detail: "moved 20 items from sync_queue:dead to sync_queue (0 left in sync_queue:dead)"}]
requeued_items:
  description: Up to 10 of the items moved (or, in check mode, that would be moved), in order.
  returned: with O(requeue_from)
  type: list
  elements: str
  sample: ['{"sku": "A-1"}']
lengths_after:
  description: Length of each queue in O(queues) after an action changed something.
  returned: when an action changed something outside check mode
  type: dict
  sample: {sync_queue: 0}
target:
  description: The server, without credentials.
  returned: always
  type: str
  sample: 127.0.0.1:16379/0
changed:
  description: Whether an action changed (or in check mode would change) something.
  returned: always
  type: bool
  sample: false
duration:
  description: Seconds the module took (without an action).
  returned: without an action
  type: float
  sample: 2.01
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.redis import common as redis_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.redis import queue as redis_queue
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import overall
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_action, run_diagnostic


def main():
    argument_spec = redis_common.redis_common_argument_spec()
    argument_spec.update(redis_queue.REDIS_QUEUE_OPTIONS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if params["requeue_from"] or params["requeue_to"] or params["purge"] is not None or params["flushdb"]:
        def act():
            result = redis_queue.run(params, module.check_mode)
            result["status"] = overall(result["findings"])
            return result

        run_action(module, act, "redis_permission", redis_common.describe_target(params))
    run_diagnostic(
        module,
        "redis_reachable",
        redis_common.describe_target(params),
        lambda: redis_queue.run(params, module.check_mode),
    )


if __name__ == "__main__":
    main()
