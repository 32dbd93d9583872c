#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: redis_health
short_description: Diagnose a Redis server and report findings
version_added: "0.1.0"
description:
  - Sends C(PING) and reads C(INFO) twice, O(sample_seconds) apart, from a Redis server; reads
    C(SLOWLOG GET) and C(LATENCY LATEST).
  - Reports latency, version, memory use against C(maxmemory) (or system memory), fragmentation,
    keyspace hit rate over the server's lifetime and over the sample window, evictions and
    expirations, connected and blocked clients, operations per second, persistence (last BGSAVE
    status and age, AOF), replication role and lag, the slowest SLOWLOG entries, recent latency
    spikes and key counts per database, as findings in the opsbook vocabulary.
  - An unreachable server is reported as a V(critical) finding, not a task failure.
  - Read-only; never changes the server.
options:
  memory_warn_pct:
    description: Memory use (percent of C(maxmemory), or of system memory when unset) at which the status is V(warning).
    type: float
    default: 80
  memory_crit_pct:
    description: Memory use at which the status is V(critical).
    type: float
    default: 90
  hit_rate_warn_pct:
    description: Keyspace hit rate (percent) at or below which the status is V(warning); applies to the lifetime and the window rate.
    type: float
    default: 95
  hit_rate_crit_pct:
    description: Keyspace hit rate at or below which the status is V(critical).
    type: float
    default: 80
  fragmentation_warn_ratio:
    description: C(mem_fragmentation_ratio) (RSS / used memory) at which the status is V(warning).
    type: float
    default: 1.5
  fragmentation_crit_ratio:
    description: Fragmentation ratio at which the status is V(critical).
    type: float
    default: 2.0
  fragmentation_min_bytes:
    description:
      - Fragmentation is only judged when at least this many bytes are fragmented
        (C(mem_fragmentation_bytes)); a nearly empty server always shows a high ratio.
      - The default, 10 MiB, is the bound Redis's own C(MEMORY DOCTOR) uses.
    type: int
    default: 10485760
  clients_warn_pct:
    description: Connected clients, in percent of C(maxclients), at which the status is V(warning).
    type: float
    default: 80
  clients_crit_pct:
    description: Connected clients in percent of C(maxclients) at which the status is V(critical).
    type: float
    default: 90
  evictions_warn:
    description: Keys evicted since start (or C(CONFIG RESETSTAT)) at which the status is V(warning); V(0) disables the check.
    type: int
    default: 1
  persistence_max_age_seconds:
    description:
      - Warn when unsaved changes are older than this (last successful RDB save, AOF off); V(0) disables the check.
      - A failed last BGSAVE or AOF write is always V(critical).
    type: int
    default: 86400
  replication_lag_warn_seconds:
    description: Replica lag (seconds since the last interaction) at which the status is V(warning).
    type: float
    default: 10
  replication_lag_crit_seconds:
    description: Replica lag at which the status is V(critical).
    type: float
    default: 60
  latency_warn_ms:
    description: A C(LATENCY LATEST) spike (milliseconds) within O(latency_window_seconds) at which the status is V(warning).
    type: float
    default: 100
  latency_crit_ms:
    description: A recent latency spike at which the status is V(critical).
    type: float
    default: 500
  latency_window_seconds:
    description: Only latency spikes younger than this count.
    type: int
    default: 300
  sample_seconds:
    description:
      - Seconds between the two C(INFO) reads that measure the window hit rate, operations per second,
        evictions and expirations. V(0) reads once and skips the window (0 to 60).
    type: float
    default: 1.0
  slowlog_count:
    description: How many of the slowest C(SLOWLOG) entries to return (0 to 128; V(0) skips SLOWLOG).
    type: int
    default: 5
  checks:
    description:
      - Judge only these checks (the C(redis_reachable) finding always comes first); default all.
      - For example V([hit_rate]) where only the cache hit rate matters, as in the api-latency scenario.
      - The returned data is the same either way.
    type: list
    elements: str
    choices: [memory, hit_rate, clients, evictions, persistence, replication, latency, slowlog]
extends_documentation_fragment:
  - opsbook.runbooks.redis
attributes:
  check_mode:
    support: full
    description: The module is read-only and runs the same in check mode.
notes:
  - Supports check_mode.
  - Seed thresholds (memory below 80 %, hit rate above 95 %) come from the Techbra runbook.
  - A user without permission for C(SLOWLOG) or C(LATENCY) gets an V(unknown) finding for that check only.
  - For sites that can only exec C(redis-cli INFO), the C(opsbook.runbooks.redis_info) and
    C(opsbook.runbooks.redis_findings) filters give the same numbers and findings from the text.
seealso:
  - module: opsbook.runbooks.redis_queue
  - module: opsbook.runbooks.pg_health
  - module: opsbook.runbooks.kafka_cluster_info
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Check the cache
  opsbook.runbooks.redis_health:
    host: cache.internal
    port: 6379
    password: "{{ vault_redis_password }}"
  register: cache

- name: Check a TLS Redis given as a URL, with a longer sample window
  opsbook.runbooks.redis_health:
    url: "rediss://monitor:{{ vault_redis_password }}@cache.internal:6380/0"
    hit_rate_warn_pct: 90
    sample_seconds: 5

- name: Feed the cache hit rate to another check
  ansible.builtin.debug:
    msg: "window {{ cache.hit_rate.window_pct }} %, lifetime {{ cache.hit_rate.lifetime_pct }} %"
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
    - Checks C(redis_reachable), C(redis_memory_usage), C(redis_fragmentation), C(redis_hit_rate),
      C(redis_hit_rate_window), C(redis_clients), C(redis_evictions), C(redis_persistence),
      C(redis_replication), C(redis_latency), C(redis_slowlog).
  returned: always
  type: list
  elements: dict
  sample:
    - check: redis_hit_rate
      status: warning
      value: 91.5
      threshold: {warn: 95, crit: 80, direction: below}
      unit: "%"
      message: keyspace hit rate (since start or RESETSTAT) is 91.5%, at or below the warning threshold of 95%
      target: 127.0.0.1:16379/0
reachable:
  description: Whether the server answered PING.
  returned: always
  type: bool
  sample: true
target:
  description: The server checked, without credentials.
  returned: always
  type: str
  sample: 127.0.0.1:16379/0
latency_ms:
  description: PING round trip in milliseconds.
  returned: when reachable
  type: float
  sample: 0.4
version:
  description: C(redis_version) from INFO.
  returned: when reachable
  type: str
  sample: 7.0.15
role:
  description: Replication role.
  returned: when reachable
  type: str
  sample: master
uptime_seconds:
  description: Seconds since the server started.
  returned: when reachable
  type: int
  sample: 3600
memory:
  description: Memory in bytes (used, RSS, peak, maxmemory, system), use in percent and its basis, policy, fragmentation.
  returned: when reachable
  type: dict
  sample:
    used_bytes: 1048576
    used_rss_bytes: 7282688
    peak_bytes: 1087216
    maxmemory_bytes: 0
    maxmemory_policy: noeviction
    total_system_bytes: 25276510208
    used_pct: 0.0
    basis: system memory
    fragmentation_ratio: 7.26
    fragmentation_bytes: 6279944
hit_rate_pct:
  description: Lifetime keyspace hit rate in percent; null when no lookups happened.
  returned: when reachable
  type: float
  sample: 99.2
hit_rate:
  description: Hit rate over the lifetime and over the sample window (null when unmeasured), and the lifetime counters.
  returned: when reachable
  type: dict
  sample: {lifetime_pct: 99.2, window_pct: 97.1, keyspace_hits: 9920, keyspace_misses: 80}
window:
  description: Counter deltas over the sample window; null when O(sample_seconds=0).
  returned: when reachable
  type: dict
  sample: {seconds: 1.001, keyspace_hits: 33, keyspace_misses: 1, hit_rate_pct: 97.06, commands: 40,
           ops_per_sec: 40.0, evicted_keys: 0, expired_keys: 2}
connected_clients:
  description: Number of connected clients.
  returned: when reachable
  type: int
  sample: 3
clients:
  description: Connected and blocked clients, C(maxclients), use in percent, rejected connections.
  returned: when reachable
  type: dict
  sample: {connected: 3, blocked: 1, maxclients: 10000, used_pct: 0.03, rejected_connections: 0}
ops_per_sec:
  description: Commands per second over the sample window (C(instantaneous_ops_per_sec) without a window).
  returned: when reachable
  type: float
  sample: 40.0
evicted_keys:
  description: Keys evicted since start or C(CONFIG RESETSTAT).
  returned: when reachable
  type: int
  sample: 0
expired_keys:
  description: Keys expired since start or C(CONFIG RESETSTAT).
  returned: when reachable
  type: int
  sample: 12
persistence:
  description: Last BGSAVE status, time and age, changes since, AOF state.
  returned: when reachable
  type: dict
  sample: {rdb_last_bgsave_status: ok, rdb_last_save_time: 1795419717, rdb_last_save_age_seconds: 754,
           rdb_changes_since_last_save: 0, rdb_bgsave_in_progress: false, aof_enabled: false,
           aof_last_write_status: null, aof_last_bgrewrite_status: null}
replication:
  description: Role and lag; on a master the replicas (address, state, lag, offset lag), on a replica the link state.
  returned: when reachable
  type: dict
  sample: {role: master, connected_replicas: 0, replicas: [], lag_seconds: null}
keyspace:
  description: Keys, keys with an expiry and average TTL per logical database.
  returned: when reachable
  type: dict
  sample: {db0: {keys: 12, expires: 2, avg_ttl: 0}}
slowlog:
  description: The slowest SLOWLOG entries, slowest first; null when skipped or not permitted.
  returned: when reachable
  type: list
  elements: dict
  sample: [{id: 4, start_time: 1795419717, duration_ms: 12.5, command: "KEYS *", client: "127.0.0.1:50000"}]
latency_events:
  description: C(LATENCY LATEST) events; null when not permitted.
  returned: when reachable
  type: list
  elements: dict
  sample: [{event: command, time: 1795419717, latest_ms: 120, max_ms: 250}]
duration:
  description: Seconds the module took.
  returned: always
  type: float
  sample: 1.01
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.redis import common as redis_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.redis import diagnostics as redis_diagnostics
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_diagnostic


def main():
    argument_spec = redis_common.redis_common_argument_spec()
    argument_spec.update(redis_diagnostics.REDIS_HEALTH_OPTIONS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    run_diagnostic(
        module,
        "redis_reachable",
        redis_common.describe_target(params),
        lambda: redis_diagnostics.health(params, params),
    )


if __name__ == "__main__":
    main()
