"""pg_maintenance and pg_explain against the lab's PostgreSQL, in a throw-away database."""

from __future__ import annotations

import pytest

from tests.helpers import run_module
from opsbook.drills.postgres import Background, connect, execute, rows, scalar, scratch_database, wait_until


@pytest.fixture(scope="module")
def mdb(pg_params):
    with scratch_database(pg_params) as params:
        conn = connect(params)
        execute(conn, "CREATE TABLE m_items (id int PRIMARY KEY, k int) WITH (autovacuum_enabled = false)")
        execute(conn, "CREATE INDEX m_items_k ON m_items (k)")
        execute(conn, "INSERT INTO m_items SELECT g, g % 100 FROM generate_series(1, 20000) g")
        execute(conn, "CREATE TABLE e_items AS SELECT g AS id, g % 1000 AS k FROM generate_series(1, 20000) g")
        execute(conn, "ANALYZE e_items")
        conn.close()
        yield params


def filenode(conn, name):
    return scalar(conn, "SELECT pg_relation_filenode(%s::regclass)", (name,))


def test_reindex_check_mode_changes_nothing_and_real_run_rebuilds(mdb):
    conn = connect(mdb)
    try:
        before = filenode(conn, "m_items_k")
        dry = run_module("pg_maintenance", dict(mdb, operation="reindex", indexes=["m_items_k"]), check_mode=True)
        assert dry["statements"] == ['REINDEX INDEX CONCURRENTLY "m_items_k"']
        assert dry["operations"][0]["executed"] is False and dry["actions"][0]["dry_run"] is True
        assert filenode(conn, "m_items_k") == before
        done = run_module("pg_maintenance", dict(mdb, operation="reindex", indexes=["m_items_k"]))
        assert done["changed"] and done["concurrently"] is True
        assert done["operations"][0]["executed"] and done["operations"][0]["duration"] >= 0
        assert filenode(conn, "m_items_k") != before
        whole = run_module("pg_maintenance", dict(mdb, operation="reindex", reindex_database=True))
        assert whole["statements"] == [f'REINDEX DATABASE CONCURRENTLY "{mdb["database"]}"']
        assert not whole.get("failed"), whole
    finally:
        conn.close()


def test_vacuum_analyze_clears_dead_tuples_and_analyze_fills_pg_stats(mdb):
    conn = connect(mdb)
    try:
        execute(conn, "DELETE FROM m_items WHERE id > 15000")
        assert scalar(conn, "SELECT count(*) FROM pg_stats WHERE tablename = 'm_items'") == 0
        done = run_module("pg_maintenance", dict(mdb, operation="vacuum", analyze=True, tables=["public.m_items"]))
        assert done["statements"] == ['VACUUM (ANALYZE) "public"."m_items"']
        assert scalar(conn, "SELECT count(*) FROM pg_stats WHERE tablename = 'm_items'") == 2  # id, k
        stats = wait_until(lambda: rows(conn, "SELECT n_dead_tup, last_vacuum IS NOT NULL FROM pg_stat_user_tables "
                                              "WHERE relname = 'm_items' AND last_vacuum IS NOT NULL"))
        assert stats == [(0, True)]
        analyze = run_module("pg_maintenance", dict(mdb, operation="analyze"))
        assert analyze["statements"] == ["ANALYZE"]
    finally:
        conn.close()


def test_rotate_logfile_runs(mdb):
    done = run_module("pg_maintenance", dict(mdb, operation="rotate_logfile"))
    assert done["statements"] == ["SELECT pg_rotate_logfile()"] and done["operations"][0]["executed"]


@pytest.mark.parametrize(
    "args, message",
    [
        ({"operation": "vacuum", "tables": ["nope"]}, "tables: no such table: nope"),
        ({"operation": "reindex", "indexes": ["m_items"]}, "indexes: no such index: m_items"),
        ({"operation": "vacuum", "full": True}, "needs confirm=true"),
        ({"operation": "reindex"}, "needs tables, indexes or reindex_database=true"),
        ({"operation": "analyze", "indexes": ["m_items_k"]}, "indexes only applies to operation=reindex"),
    ],
)
def test_maintenance_bad_input(mdb, args, message):
    result = run_module("pg_maintenance", dict(mdb, **args))
    assert result["failed"] and message in result["msg"]


def test_explain_analyze_finds_the_filtering_seq_scan(mdb):
    conn = connect(mdb)
    try:
        matching = scalar(conn, "SELECT count(*) FROM e_items WHERE k = 5")
        result = run_module("pg_explain", dict(mdb, statement="SELECT * FROM e_items WHERE k = 5"))
    finally:
        conn.close()
    assert result["analyzed"] is True
    spot = result["hot_spots"][0]
    assert (spot["node_type"], spot["relation"]) == ("Seq Scan", "e_items")
    assert spot["actual_rows"] == matching == 20
    assert spot["rows_removed_by_filter"] == 20000 - matching
    assert "an index may help" in spot["issues"][0]
    found = {f["check"]: f for f in result["findings"]}
    assert found["postgres_explain_plan_issues"]["status"] == "warning"
    assert found["postgres_explain_execution_time"]["value"] == round(result["execution_ms"], 3)


@pytest.mark.parametrize("force", [False, True])
def test_explain_never_changes_data(mdb, force):
    conn = connect(mdb)
    try:
        before = scalar(conn, "SELECT count(*) FROM e_items")
        result = run_module("pg_explain", dict(mdb, statement="DELETE FROM e_items WHERE k < 500", force_analyze=force))
        cte = run_module("pg_explain", dict(mdb, statement="WITH x AS (INSERT INTO e_items VALUES (0, 0) RETURNING 1) "
                                                           "SELECT * FROM x"))
        after = scalar(conn, "SELECT count(*) FROM e_items")
    finally:
        conn.close()
    assert after == before == 20000
    assert result["analyzed"] is force
    if force:
        assert result["plan"]["Plan"]["Plans"][0]["Actual Rows"] == 10000  # executed, then rolled back
    else:
        assert "not read-only" in result["notes"][0]
    assert cte["analyzed"] is False and "read-only transaction" in cte["notes"][0]


def test_explain_captures_a_running_query(mdb):
    sleeper = Background(mdb, "SELECT pg_sleep(20), count(*) FROM e_items", application_name="pgt-explain")
    admin = connect(mdb)
    try:
        assert wait_until(lambda: scalar(admin, "SELECT state FROM pg_stat_activity WHERE pid = %s",
                                         (sleeper.pid,)) == "active")
        result = run_module("pg_explain", dict(mdb, pid=sleeper.pid, analyze=False))
    finally:
        sleeper.close()
        admin.close()
    assert result["statement"] == "SELECT pg_sleep(20), count(*) FROM e_items"
    assert result["analyzed"] is False and result["execution_ms"] is None
    assert "e_items" in {s["relation"] for s in result["hot_spots"]}


def test_explain_bad_sql_is_one_error(mdb):
    result = run_module("pg_explain", dict(mdb, statement="SELECT * FROM no_such_table"))
    assert result["failed"] and 'relation "no_such_table" does not exist' in result["msg"]
