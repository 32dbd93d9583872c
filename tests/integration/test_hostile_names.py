"""Hostile names against the lab's real PostgreSQL and Redis: a database, a table, a session and
queue keys whose names hold quotes, semicolons, spaces, newlines, ``$( )``, ``../``, ``*``, non-ASCII
letters and 4 KB reach the server as names (found intact, acted on) and are never executed: the
table the names try to drop is still there, the keys the names try to match are untouched."""

from __future__ import annotations

import contextlib
import json
import subprocess
import uuid
from pathlib import Path

import pytest
import redis

from tests.helpers import REDIS_TEST_DB, lab_state, run_module
from opsbook.drills.postgres import Background, connect, execute, scalar, wait_until


@pytest.fixture(scope="module")
def lab():
    """Only PostgreSQL and Redis (started if needed): these tests need no Kafka."""
    from opsbook.lab.core import Lab

    Lab(log=lambda *_: None).up(["postgres", "redis"])
    return lab_state()


@pytest.fixture(scope="module")
def pg(lab):
    svc = lab["services"]["postgres"]
    return {"host": svc["host"], "port": svc["port"], "user": svc["user"], "password": svc["password"],
            "database": svc["database"], "sslmode": "disable", "connect_timeout": 3}


@pytest.fixture
def victim(pg):
    """A table ``hostile_t_<random>`` in the lab database that the hostile names try to drop."""
    name = "hostile_t_" + uuid.uuid4().hex[:8]
    admin = connect(pg)
    execute(admin, f'CREATE TABLE "{name}" (id int)')
    yield name
    execute(admin, f'DROP TABLE IF EXISTS "{name}"')
    admin.close()


def _exists(pg, table, database=None):
    conn = connect(pg, database)
    try:
        return scalar(conn, "SELECT to_regclass(%s) IS NOT NULL", ('"%s"' % table,))
    finally:
        conn.close()


@contextlib.contextmanager
def named_database(pg, name, marker_rows):
    """A database called ``name`` holding table ``marker`` with ``marker_rows``; dropped (WITH FORCE) after."""
    from psycopg2 import sql

    admin = connect(pg)
    execute(admin, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        inner = connect(pg, name)
        execute(inner, "CREATE TABLE marker (v text)")
        for row in marker_rows:
            execute(inner, "INSERT INTO marker VALUES (%s)", (row,))
        inner.close()
        yield name
    finally:
        execute(admin, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


@pytest.fixture
def hostile_db(pg, victim):
    """A database named ``x"; DROP TABLE <victim>; --``."""
    with named_database(pg, 'x"; DROP TABLE %s; --' % victim, ["ação ñ"]) as name:
        yield name


def test_database_named_like_sql_is_found_intact_and_never_executed(pg, victim, hostile_db):
    health = run_module("pg_health", dict(pg, database=hostile_db, checks=["connections"]))
    assert health.get("failed") is not True, health
    assert health["findings"] and all(f["status"] != "critical" for f in health["findings"]), health["findings"]
    assert any(hostile_db in (f["target"] or "") for f in health["findings"])

    session = Background(dict(pg, database=hostile_db), "SELECT pg_sleep(60)", application_name="hostile $(id)")
    try:
        wait_until(lambda: scalar(connect(pg), "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND "
                                               "state = 'active'", (hostile_db,)))
        listed = run_module("pg_backends", dict(pg, action="list", databases=[hostile_db],
                                                applications=["hostile $(id)"]))
        assert [b["database"] for b in listed["backends"]] == [hostile_db]
        assert listed["backends"][0]["application_name"] == "hostile $(id)"
        done = run_module("pg_backends", dict(pg, action="terminate", confirm=True, databases=[hostile_db],
                                              min_duration=0))
        assert done["affected_pids"] == [session.pid], done
    finally:
        session.close()
    assert _exists(pg, victim), "the database's name was executed as SQL"


def test_table_named_like_sql_is_vacuumed_not_executed(pg, victim):
    hostile = 'v"; DROP TABLE %s; -- $(touch /tmp/x) ação' % victim
    admin = connect(pg)
    from psycopg2 import sql

    execute(admin, sql.SQL("CREATE TABLE {} (id int)").format(sql.Identifier(hostile)))
    try:
        result = run_module("pg_maintenance", dict(pg, operation="vacuum", tables=[hostile]))
        assert result.get("failed") is not True, result
        assert [op["executed"] for op in result["operations"]] == [True]
        assert hostile in result["operations"][0]["statement"].replace('""', '"')
        assert _exists(pg, victim)
        missing = run_module("pg_maintenance", dict(pg, operation="vacuum", tables=["nope'; DROP TABLE %s; --" % victim]))
        assert missing["failed"] and missing["msg"].startswith("tables: no such table"), missing
        assert _exists(pg, victim)
    finally:
        execute(admin, sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(hostile)))
        admin.close()


def test_pg_backup_of_a_database_whose_name_looks_like_a_conninfo(pg, lab, tmp_path):
    """``--dbname 'x port=1'`` would be read by pg_dump as a connection string (another port/host);
    quoted as dbname='...' it is the database of that name."""
    name = "dbname=postgres application_name=ação"  # unquoted: pg_dump would dump database postgres
    with named_database(pg, name, ['x"; --', "ç"]):
        backup = run_module("pg_backup", dict(pg, database=name, location=str(tmp_path),
                                              bin_dir=lab["services"]["postgres"]["bin_dir"]))
        assert backup.get("published"), backup
        details = json.loads(Path(backup["backup"], "manifest.json").read_text())["details"]
        assert [(t["name"], t["rows"]) for t in details["tables"]] == [("marker", 2)]


# --- Redis ----------------------------------------------------------------------------------------

KEYS = ['x"; FLUSHDB; --', "two words", "line\nbreak", "$(redis-cli flushall)", "../../etc", "*",
        "fila_ação_日本", "k" * 4096]


@pytest.fixture
def rparams(lab):
    svc = lab["services"]["redis"]
    return {"host": svc["host"], "port": svc["port"], "username": svc["user"], "password": svc["password"],
            "db": REDIS_TEST_DB, "connect_timeout": 3.0}


@pytest.fixture
def rclient(rparams):
    client = redis.Redis(host=rparams["host"], port=rparams["port"], db=REDIS_TEST_DB, username=rparams["username"],
                         password=rparams["password"], socket_timeout=10)
    prefix = "hostile:%s:" % uuid.uuid4().hex[:8]
    yield client, prefix
    keys = list(client.scan_iter(match=prefix.replace("*", "\\*") + "*", count=1000))
    if keys:
        client.delete(*keys)
    client.config_resetstat()  # the lookups of absent keys count as misses: leave the shared lab's hit rate healthy
    client.close()


def test_queue_keys_with_hostile_names_are_measured_requeued_and_purged_as_names(rparams, rclient):
    client, prefix = rclient
    names = [prefix + k for k in KEYS]
    for i, name in enumerate(names):
        client.lpush(name, *["job-%d" % j for j in range(i + 1)])
    bystander = prefix + "bystander"  # what a '*' taken as a pattern would also hit
    client.lpush(bystander, "keep")

    measured = run_module("redis_queue", dict(rparams, queues=names, samples=1))
    assert [q["name"] for q in measured["queues"]] == names
    assert [q["length"] for q in measured["queues"]] == [i + 1 for i in range(len(names))]

    star = prefix + "*"
    requeued = run_module("redis_queue", dict(rparams, requeue_from=star, requeue_to=names[0], requeue_count=100))
    assert requeued["actions"][0]["changed"], requeued
    assert client.llen(star) == 0 and client.llen(names[0]) == 1 + KEYS.index("*") + 1

    purged = run_module("redis_queue", dict(rparams, purge=names[-1], confirm=names[-1]))
    assert purged["actions"][0]["changed"], purged
    assert not client.exists(names[-1])
    assert client.lrange(bystander, 0, -1) == [b"keep"]
    assert all(client.exists(n) for n in names[:-1] if n != star)

    refused = run_module("redis_queue", dict(rparams, purge=star, confirm=star + " "))
    assert refused["failed"] and refused["msg"].startswith("purge: refusing"), refused


# --- Prometheus -----------------------------------------------------------------------------------

PROM_VALUES = ['x"} or vector(666) # ', "it's \\ \"quoted\"", "line\nbreak\ttab", "$(id) ; *", "rota_ação_日本",
               "v" * 4096]


@pytest.fixture(scope="module")
def prometheus():
    from opsbook.lab.core import Lab

    Lab(log=lambda *_: None).up(["prometheus"])
    return lab_state()["services"]["prometheus"]


@pytest.mark.parametrize("value", PROM_VALUES, ids=[repr(v)[:20] for v in PROM_VALUES])
def test_label_value_reaches_prometheus_query_intact(prometheus, value):
    """A label value with quotes, backslashes, newlines... written with promql.string_literal reaches
    Prometheus as that value: prometheus_query reports it intact, Prometheus's HTTP API (curl) and
    promtool answer the same query with the same series; as a matcher it selects nothing and injects nothing."""
    from ansible_collections.opsbook.runbooks.plugins.module_utils.prometheus import promql
    from tests.integration.prom_seed import prom_query

    query = 'label_replace(vector(1), "route", %s, "", "")' % promql.string_literal(value)
    selector = "up{%s}" % promql.label_matcher("job", value)
    result = run_module("prometheus_query", {"url": prometheus["url"], "queries": [
        {"name": "hostile_label", "query": query, "warn": 5, "crit": 10, "target_labels": ["route"]},
        {"name": "hostile_matcher", "query": selector, "warn": 5, "crit": 10, "empty": "ok"}]})
    assert result.get("failed") is not True, result
    by_name = {r["name"]: r for r in result["results"]}
    assert [r.get("error") for r in result["results"]] == [None, None], result["results"]
    assert [s["labels"] for s in by_name["hostile_label"]["series"]] == [{"route": value}]
    assert by_name["hostile_matcher"]["series"] == []  # no job has that name: nothing matched, 666 not injected

    assert [(s["metric"], s["value"][1]) for s in prom_query(prometheus["url"], query)] == [({"route": value}, "1")]
    assert prom_query(prometheus["url"], selector) == []
    proc = subprocess.run(["promtool", "query", "instant", "-o", "json", prometheus["url"], query],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert [s["metric"] for s in json.loads(proc.stdout)] == [{"route": value}]
