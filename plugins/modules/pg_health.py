#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_health
short_description: Diagnose a PostgreSQL server and report findings
version_added: "0.1.0"
description:
  - Connects to a PostgreSQL server and reports its version, uptime, connections (by state and by
    database), long-running and blocked queries with their blocking chain, lock waits, the top
    statements of C(pg_stat_statements), cache hit ratio, index usage, dead tuples, database sizes,
    transaction-ID age and replication lag, with findings in the opsbook vocabulary.
  - An unreachable server is reported as a V(critical) finding, not a task failure,
    so a health check goes on to the next service.
  - Read-only; never changes the server.
options:
  checks:
    description:
      - Checks to run; all of them when omitted.
      - V(connections) by state and database, utilisation; V(long_queries) over O(long_query_seconds);
        V(blocked) queries with their blocking chain; V(lock_waits) ratio; V(statements) top
        C(pg_stat_statements) entries; V(cache) hit ratio; V(indexes) unused indexes and
        sequential-scan tables; V(vacuum) dead tuples and last (auto)vacuum/analyze; V(sizes) of
        databases; V(xid_age) transaction-ID age; V(replication) lag.
    type: list
    elements: str
    choices: [connections, long_queries, blocked, lock_waits, statements, cache, indexes, vacuum, sizes, xid_age, replication]
  scope:
    description:
      - V(server) looks at the backends of every database for the long_queries, blocked and
        lock_waits checks; V(database) only at those of O(database).
      - Connection counts are always server-wide (C(max_connections) is).
    type: str
    choices: [server, database]
    default: server
  connections_warn_pct:
    description: Connection use (percent of O(pool_size) or C(max_connections)) at which the status is V(warning).
    type: float
    default: 80
  connections_crit_pct:
    description: Connection use at which the status is V(critical).
    type: float
    default: 90
  pool_size:
    description:
      - Size of the application's connection pool. When given, connection use is
        measured against it instead of C(max_connections), and a second finding
        measures it against C(max_connections).
    type: int
  long_query_seconds:
    description: A non-idle query running this long (seconds) is reported (ML Bling, 5 minutes).
    type: float
    default: 300
  statement_mean_warn_ms:
    description: Mean statement time (ms) of the slowest C(pg_stat_statements) entry that is a warning (Techbra, 100 ms).
    type: float
    default: 100
  statement_mean_crit_ms:
    description: Mean statement time (ms) that is critical (ConectCRM SlowDatabaseQueries, 1 s).
    type: float
    default: 1000
  top_statements:
    description: How many statements to list by mean and by total time.
    type: int
    default: 10
  lock_wait_warn_pct:
    description: Percent of active backends waiting on a lock that is a warning (Techbra, 5 %).
    type: float
    default: 5
  lock_wait_crit_pct:
    description: Percent of active backends waiting on a lock that is critical.
    type: float
    default: 20
  cache_hit_warn_pct:
    description: Buffer cache hit ratio (percent) at or below which it is a warning.
    type: float
    default: 95
  cache_hit_crit_pct:
    description: Buffer cache hit ratio (percent) at or below which it is critical.
    type: float
    default: 90
  seq_scan_min_rows:
    description: Only tables with at least this many live rows are reported as sequential-scan dominated.
    type: int
    default: 1000
  dead_tuple_warn_pct:
    description: Dead-tuple percentage of the worst table that is a warning.
    type: float
    default: 10
  dead_tuple_crit_pct:
    description: Dead-tuple percentage of the worst table that is critical (autovacuum's default scale factor).
    type: float
    default: 20
  dead_tuple_min_rows:
    description: Only tables with at least this many dead rows are considered.
    type: int
    default: 1000
  xid_age_warn_pct:
    description: Transaction-ID age, in percent of the 2^31 wraparound horizon, that is a warning.
    type: float
    default: 50
  xid_age_crit_pct:
    description: Transaction-ID age (percent of wraparound) that is critical.
    type: float
    default: 75
  replication_lag_warn_seconds:
    description: Replay lag of a replica (seconds) that is a warning.
    type: float
    default: 30
  replication_lag_crit_seconds:
    description: Replay lag of a replica (seconds) that is critical.
    type: float
    default: 300
extends_documentation_fragment:
  - opsbook.runbooks.postgres
attributes:
  check_mode:
    support: full
    description: The module is read-only and runs the same in check mode.
notes:
  - Supports check_mode.
  - The seed thresholds (pool 80 %) come from the ConectCRM and SparkOne runbooks, statement time
    100 ms and lock waits 5 % from Techbra, the 5-minute long query from ML Bling.
  - C(pg_stat_statements) gives means, not percentiles; the slowest mean is compared with the
    seeds' p95 thresholds.
  - Statements are those of the connected database only.
seealso:
  - module: opsbook.runbooks.pg_backends
  - module: opsbook.runbooks.pg_explain
  - module: opsbook.runbooks.redis_health
  - module: opsbook.runbooks.kafka_cluster_info
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Check the application database
  opsbook.runbooks.pg_health:
    host: db.internal
    port: 5432
    user: monitor
    password: "{{ vault_pg_monitor_password }}"
    database: ecommerce_db
  register: pg

- name: Measure connection use against a 20-connection application pool
  opsbook.runbooks.pg_health:
    host: /var/run/postgresql
    user: postgres
    pool_size: 20
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
    - check: postgres_connection_utilization
      status: ok
      value: 4.0
      threshold: {warn: 80, crit: 90, direction: above}
      unit: "%"
      message: connection use (4 of 100) is 4% (below the 80% limit)
      target: opsbook@127.0.0.1:15432/opsbook
reachable:
  description: Whether the server answered.
  returned: always
  type: bool
  sample: true
target:
  description: The server checked, as C(user@host:port/database).
  returned: always
  type: str
  sample: opsbook@127.0.0.1:15432/opsbook
latency_ms:
  description: Time to connect, in milliseconds.
  returned: when reachable
  type: float
  sample: 3.2
version:
  description: Server version (C(server_version)).
  returned: when reachable
  type: str
  sample: "15.18 (Debian 15.18-0+deb12u1)"
version_num:
  description: Server version as a number (C(server_version_num)).
  returned: when reachable
  type: int
  sample: 150018
version_string:
  description: Output of C(version()).
  returned: when reachable
  type: str
  sample: PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu
uptime_seconds:
  description: Seconds since the postmaster started.
  returned: when reachable
  type: int
  sample: 3600
in_recovery:
  description: Whether the server is a replica (in recovery).
  returned: when reachable
  type: bool
  sample: false
connections:
  description: Client connections by state and by database, their total and the server limits.
  returned: when reachable and the connections check ran
  type: dict
  sample:
    by_state: {active: 1, idle: 3}
    by_database:
      - {database: opsbook, state: idle, count: 3, oldest_query_start: "2026-11-23T08:00:00+00:00", oldest_query_seconds: 12.5}
    total: 4
    max_connections: 100
    superuser_reserved_connections: 3
checks:
  description: The checks that ran.
  returned: when reachable
  type: list
  elements: str
  sample: [connections, blocked]
long_queries:
  description: Non-idle queries running for at least O(long_query_seconds).
  returned: when the long_queries check ran
  type: list
  elements: dict
  sample: [{pid: 4242, user: app, database: shop, application_name: api, state: active, duration_seconds: 412.3, query: "SELECT ..."}]
blocked:
  description: Backends waiting on a lock, with C(blocking_pids), the locks they wait for and C(chain) (the pid, its blocker, that one's blocker...).
  returned: when the blocked check ran
  type: list
  elements: dict
  sample: [{pid: 4243, blocking_pids: [4242], chain: [4243, 4242], waiting_for: ["relation:AccessExclusiveLock:orders"], query: "LOCK orders"}]
blockers:
  description: The backends holding the locks, with the locks they hold and their transaction age.
  returned: when the blocked check ran
  type: list
  elements: dict
  sample: [{pid: 4242, state: idle in transaction, transaction_seconds: 60.2, holding: ["relation:RowExclusiveLock:orders"]}]
lock_waits:
  description: Active client backends, how many wait on a lock and the ratio in percent.
  returned: when the lock_waits check ran
  type: dict
  sample: {active: 20, waiting: 1, ratio_pct: 5.0}
top_statements:
  description:
    - Top C(pg_stat_statements) entries of the connected database by mean and by total time
      (C(mean_exec_time) or C(mean_time), whichever the extension version has).
  returned: when the statements check ran
  type: dict
  sample: {by_mean: [{queryid: "123", calls: 50, mean_ms: 120.5, total_ms: 6025.0, rows: 50, query: "SELECT ..."}], by_total: []}
cache:
  description: Block hits and reads of the connected database and the hit ratio in percent (null before any read).
  returned: when the cache check ran
  type: dict
  sample: {blks_hit: 9900, blks_read: 100, ratio_pct: 99.0}
index_usage:
  description: C(unused_indexes) (non-unique, never scanned) and C(seq_scan_tables) (more sequential than index scans).
  returned: when the indexes check ran
  type: dict
  sample: {unused_indexes: [{schema: public, table: orders, index: orders_note_idx, idx_scan: 0, size_bytes: 16384}], seq_scan_tables: []}
dead_tuples:
  description: Tables with at least O(dead_tuple_min_rows) dead rows, worst first, with last (auto)vacuum and (auto)analyze times.
  returned: when the vacuum check ran
  type: list
  elements: dict
  sample: [{schema: public, table: orders, live_rows: 9000, dead_rows: 1000, dead_pct: 10.0, last_autovacuum: null}]
databases:
  description: Databases with their size in bytes and transaction-ID age.
  returned: when the sizes or xid_age check ran
  type: list
  elements: dict
  sample: [{database: shop, size_bytes: 8000000, xid_age: 1200}]
replication:
  description: On a replica its replay lag (C(lag_seconds), C(replay_lag_bytes)); on a primary the replicas from C(pg_stat_replication).
  returned: when the replication check ran
  type: dict
  sample: {role: primary, replicas: []}
pg_stat_statements:
  description: Installed version of the C(pg_stat_statements) extension, or null.
  returned: when reachable
  type: str
  sample: "1.10"
duration:
  description: Seconds the module took.
  returned: always
  type: float
  sample: 0.05
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import diagnostics as pg_diagnostics
from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import common as postgres
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_diagnostic


def main():
    argument_spec = postgres.postgres_common_argument_spec()
    argument_spec.update(
        checks=dict(type="list", elements="str", choices=list(pg_diagnostics.CHECKS)),
        scope=dict(type="str", choices=["server", "database"], default="server"),
        connections_warn_pct=dict(type="float", default=80),
        connections_crit_pct=dict(type="float", default=90),
        pool_size=dict(type="int"),
        long_query_seconds=dict(type="float", default=300),
        statement_mean_warn_ms=dict(type="float", default=100),
        statement_mean_crit_ms=dict(type="float", default=1000),
        top_statements=dict(type="int", default=10),
        lock_wait_warn_pct=dict(type="float", default=5),
        lock_wait_crit_pct=dict(type="float", default=20),
        cache_hit_warn_pct=dict(type="float", default=95),
        cache_hit_crit_pct=dict(type="float", default=90),
        seq_scan_min_rows=dict(type="int", default=1000),
        dead_tuple_warn_pct=dict(type="float", default=10),
        dead_tuple_crit_pct=dict(type="float", default=20),
        dead_tuple_min_rows=dict(type="int", default=1000),
        xid_age_warn_pct=dict(type="float", default=50),
        xid_age_crit_pct=dict(type="float", default=75),
        replication_lag_warn_seconds=dict(type="float", default=30),
        replication_lag_crit_seconds=dict(type="float", default=300),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    run_diagnostic(
        module,
        "postgres_reachable",
        postgres.describe_target(params),
        lambda: pg_diagnostics.health(params),
    )


if __name__ == "__main__":
    main()
