"""pg_health drills against the lab's real PostgreSQL, each in a throw-away pgt_* database."""

from __future__ import annotations

import pytest

from tests.helpers import closed_port, run_module
from opsbook.drills.postgres import Background, connect, execute, rows, scalar, scratch_database, wait_until


def by_check(result):
    return {f["check"]: f for f in result["findings"]}


@pytest.fixture(scope="module")
def pgdb(pg_params):
    with scratch_database(pg_params) as params:
        yield params


def test_lock_holder_and_waiter_give_the_blocking_chain(pgdb):
    admin = connect(pgdb)
    execute(admin, "CREATE TABLE lockme (id int)")
    holder = connect(pgdb, autocommit=False)
    holder_pid = holder.get_backend_pid()
    execute(holder, "LOCK TABLE lockme IN ACCESS EXCLUSIVE MODE")
    waiter = Background(pgdb, "SELECT count(*) FROM lockme")
    try:
        assert wait_until(lambda: scalar(admin, "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                                         (waiter.pid,)) == "Lock")
        result = run_module("pg_health", dict(pgdb, checks=["blocked", "lock_waits"]))
    finally:
        holder.rollback()
        holder.close()
        waiter.close(wait=10)
        admin.close()
    mine = [b for b in result["blocked"] if b["database"] == pgdb["database"]]
    assert [b["pid"] for b in mine] == [waiter.pid]
    assert mine[0]["blocking_pids"] == [holder_pid]
    assert mine[0]["chain"] == [waiter.pid, holder_pid]
    assert "relation:AccessShareLock:lockme" in mine[0]["waiting_for"]
    blocker = {b["pid"]: b for b in result["blockers"]}[holder_pid]
    assert "relation:AccessExclusiveLock:lockme" in blocker["holding"]
    assert blocker["state"] == "idle in transaction"
    assert by_check(result)["postgres_blocked_queries"]["status"] == "warning"
    assert result["lock_waits"]["waiting"] >= 1
    assert waiter.error is None


def test_connections_at_85_percent_of_max_connections_raise_the_pool_finding(pgdb):
    admin = connect(pgdb)
    max_conn = int(scalar(admin, "SHOW max_connections"))
    in_use = scalar(admin, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
    wanted = max(0, -(-85 * max_conn // 100) - in_use)  # ceil(85 %) minus what is already open
    held = []
    try:
        for _ in range(wanted):
            held.append(connect(pgdb, application_name="pgt-pool"))
        result = run_module("pg_health", dict(pgdb, checks=["connections"]))
    finally:
        for conn in held:
            conn.close()
        admin.close()
    conns = result["connections"]
    mine = {r["state"]: r["count"] for r in conns["by_database"] if r["database"] == pgdb["database"]}
    assert mine["idle"] == wanted + 1  # ours, plus the admin connection
    finding = by_check(result)["postgres_connection_utilization"]
    assert finding["value"] == round(100.0 * conns["total"] / conns["max_connections"], 1)
    assert finding["value"] >= 80
    assert finding["status"] in ("warning", "critical")


def test_statements_run_n_times_top_pg_stat_statements(pgdb):
    conn = connect(pgdb)
    try:
        execute(conn, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        execute(conn, "CREATE TABLE stmt_items AS SELECT g AS id FROM generate_series(1, 100) g")
        for i in range(40):
            execute(conn, "SELECT count(*) FROM stmt_items WHERE id < %s", (i,))
        for _ in range(4):
            execute(conn, "SELECT pg_sleep(0.05)")
        result = run_module("pg_health", dict(pgdb, checks=["statements"], top_statements=20))
        own = dict(rows(conn, "SELECT query, calls FROM pg_stat_statements "
                              "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                              "AND (query LIKE '%%stmt_items WHERE%%' OR query LIKE '%%pg_sleep%%')"))
    finally:
        conn.close()
    top = result["top_statements"]["by_mean"][0]
    assert "pg_sleep" in top["query"]
    assert top["calls"] == own[top["query"]] == 4
    assert result["top_statements"]["by_total"][0]["queryid"] == top["queryid"]
    counted = [s for s in result["top_statements"]["by_total"] if "stmt_items WHERE" in s["query"]]
    assert [s["calls"] for s in counted] == [own[counted[0]["query"]]] == [40]
    assert by_check(result)["postgres_slow_statements"]["value"] == top["mean_ms"]


def test_statements_missing_extension_says_how_to_enable(pgdb):
    with scratch_database(pgdb) as other:
        result = run_module("pg_health", dict(other, checks=["statements"]))
    finding = by_check(result)["postgres_pg_stat_statements"]
    assert finding["status"] == "warning"
    assert f"CREATE EXTENSION pg_stat_statements in database {other['database']}" in finding["message"]


def test_unused_index_seq_scans_and_dead_tuples(pgdb):
    conn = connect(pgdb)
    try:
        execute(conn, "CREATE TABLE idx_items (id int PRIMARY KEY, note text) WITH (autovacuum_enabled = false)")
        execute(conn, "CREATE INDEX idx_items_note ON idx_items (note)")
        execute(conn, "INSERT INTO idx_items SELECT g, 'n' || g FROM generate_series(1, 3000) g")
        execute(conn, "DELETE FROM idx_items WHERE id <= 1500")
        for _ in range(3):
            execute(conn, "SELECT count(*) FROM idx_items")
    finally:
        conn.close()  # a backend flushes its statistics when it exits
    check = connect(pgdb)
    try:
        stats = wait_until(lambda: rows(check, "SELECT seq_scan, n_live_tup, n_dead_tup FROM pg_stat_user_tables "
                                               "WHERE relname = 'idx_items' AND seq_scan >= 3"))
        result = run_module("pg_health", dict(pgdb, checks=["indexes", "vacuum"]))
    finally:
        check.close()
    seq_scan, live, dead = stats[0]
    unused = [(i["table"], i["index"]) for i in result["index_usage"]["unused_indexes"]]
    assert ("idx_items", "idx_items_note") in unused
    assert ("idx_items", "idx_items_pkey") not in unused
    seq = {t["table"]: t for t in result["index_usage"]["seq_scan_tables"]}
    assert seq["idx_items"]["seq_scan"] == seq_scan
    table = {t["table"]: t for t in result["dead_tuples"]}["idx_items"]
    assert (table["live_rows"], table["dead_rows"]) == (live, dead) == (1500, 1500)
    assert table["dead_pct"] == 50.0
    assert by_check(result)["postgres_dead_tuples"]["status"] == "critical"
    assert by_check(result)["postgres_unused_indexes"]["status"] == "warning"


def test_missing_database_is_one_clear_finding(pg_params):
    result = run_module("pg_health", dict(pg_params, database="pgt_does_not_exist"))
    assert not result.get("failed")
    assert [f["check"] for f in result["findings"]] == ["postgres_reachable"]
    assert result["status"] == "critical"
    assert 'database "pgt_does_not_exist" does not exist' in result["findings"][0]["message"]


def test_unknown_check_is_an_error_naming_the_option(pg_params):
    result = run_module("pg_health", dict(pg_params, checks=["nope"]))
    assert result["failed"]
    assert "checks" in result["msg"] and "nope" in result["msg"]


def test_unreachable_host_is_one_finding(pg_params):
    result = run_module("pg_health", dict(pg_params, port=closed_port(), connect_timeout=2))
    assert len(result["findings"]) == 1
    assert result["findings"][0]["status"] == "critical"
