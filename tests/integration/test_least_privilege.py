"""The shipped least-privilege principals (extensions/permissions, created by the lab) against the lab's
real PostgreSQL and Redis: diagnosis with the read-only ones succeeds; remediation with them is refused
with a critical ``permission_denied`` finding (no failed task, nothing changed); with the remediation
ones it works. postgres-connection-pool and queue-backlog end to end through the CLI."""

from __future__ import annotations

import json
import uuid

import psycopg2
import pytest
import redis
from psycopg2 import sql

from tests.helpers import REDIS_TEST_DB, lab_state, run_cli, run_module
from opsbook.drills.postgres import Background, connect, execute, rows, scratch_database, wait_until


@pytest.fixture(scope="module")
def lab():
    """Only PostgreSQL and Redis (started if needed); ``up`` also (re)creates the principals."""
    from opsbook.lab.core import Lab

    Lab(log=lambda *_: None).up(["postgres", "redis"])
    return lab_state()


def _pg(svc, principal=None):
    who = svc["principals"][principal] if principal else svc
    return {"host": svc["host"], "port": svc["port"], "user": who["user"], "password": who["password"],
            "database": svc["database"], "sslmode": "disable", "connect_timeout": 3}


@pytest.fixture(scope="module")
def pg_admin(lab):
    return _pg(lab["services"]["postgres"])


@pytest.fixture
def app_sessions(pg_admin):
    """A scratch database and two 120 s sessions in it of a plain application role (no superuser:
    pg_signal_backend may signal it); role and database dropped afterwards."""
    role, password = "pgt_app_" + uuid.uuid4().hex[:8], uuid.uuid4().hex
    admin = connect(pg_admin)
    execute(admin, sql.SQL("CREATE ROLE {} LOGIN PASSWORD %s").format(sql.Identifier(role)), (password,))
    sleepers = []
    try:
        with scratch_database(pg_admin) as scratch:
            app = dict(scratch, user=role, password=password)
            sleepers = [Background(app, "SELECT pg_sleep(120)", application_name="pgt-lp") for _ in range(2)]
            pids = sorted(s.pid for s in sleepers)
            assert wait_until(lambda: len(rows(admin, "SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s) AND "
                                                      "now() - query_start > interval '1 second'", (pids,))) == 2)
            yield scratch["database"], pids, admin
            for s in sleepers:
                s.close()
    finally:
        for s in sleepers:
            s.close()
        execute(admin, sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        admin.close()


def _alive(admin, pids):
    return sorted(r[0] for r in rows(admin, "SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)))


def _permission(findings):
    return [f for f in findings if f["state"] == "permission_denied"]


def test_postgres_monitor_diagnoses_everything_and_sees_other_roles_sessions(lab, app_sessions):
    database, pids, _admin = app_sessions
    monitor = _pg(lab["services"]["postgres"], "monitor")
    health = run_module("pg_health", dict(monitor, database=database))
    assert health.get("failed") is not True, health
    assert _permission(health["findings"]) == [] and health["findings"]
    listed = run_module("pg_backends", dict(monitor, action="list", databases=[database]))
    assert sorted(listed["pids"]) == pids
    assert {b["state"] for b in listed["backends"]} == {"active"}  # pg_read_all_stats: not "<insufficient privilege>"
    assert {b["query"] for b in listed["backends"]} == {"SELECT pg_sleep(120)"}


def test_postgres_monitor_cannot_terminate_and_says_so(lab, app_sessions):
    database, pids, admin = app_sessions
    monitor = _pg(lab["services"]["postgres"], "monitor")
    result = run_module("pg_backends", dict(monitor, action="terminate", confirm=True, databases=[database],
                                            min_duration=0))
    assert result.get("failed") is not True and "Traceback" not in result["_stderr"], result
    [finding] = result["findings"]
    assert (finding["check"], finding["status"], finding["state"]) == ("postgres_permission", "critical",
                                                                       "permission_denied")
    assert finding["message"].startswith("permission denied on opsbook_monitor@")
    assert "pg_signal_backend" in finding["message"]  # PostgreSQL's own detail names the missing role
    assert lab["services"]["postgres"]["principals"]["monitor"]["password"] not in json.dumps(result)
    assert result["changed"] is False
    assert _alive(admin, pids) == pids


def test_postgres_connection_pool_scenario_per_principal(lab, app_sessions):
    database, pids, admin = app_sessions
    svc = lab["services"]["postgres"]
    common = ["--remediate", "--yes", "-e", "postgres_connection_pool_terminate_seconds=1",
              "-e", json.dumps({"postgres_connection_pool_databases": [database]})]

    def run(principal):
        variables = {"opsbook_postgres": dict(_pg(svc, principal), database=database)}
        proc = run_cli("run", "postgres-connection-pool", "--json", *common, "-e", json.dumps(variables))
        assert "Traceback" not in proc.stderr
        return proc, json.loads(proc.stdout)

    proc, refused = run("monitor")
    assert refused["run"]["failed"] is False, (refused["failures"], proc.stderr)
    [finding] = _permission(refused["findings"])
    assert (finding["check"], finding["status"], finding["phase"]) == ("postgres_permission", "critical", "remediate")
    # nothing changed: the problem stands, remediation was not possible (the exit code follows the diagnosis)
    assert refused["outcome"] == "action_needed" and proc.returncode in (1, 2)
    assert _alive(admin, pids) == pids
    assert svc["principals"]["monitor"]["password"] not in proc.stdout + proc.stderr

    proc, done = run("remediate")
    assert done["run"]["failed"] is False, (done["failures"], proc.stderr)
    assert _permission(done["findings"]) == []
    assert sorted(int(a["target"].rsplit(" ", 1)[1]) for a in done["actions"] if a["changed"]) == pids
    assert wait_until(lambda: _alive(admin, pids) == [])


def test_postgres_remediate_cannot_signal_a_superuser_session(lab, pg_admin):
    """pg_signal_backend stops short of superusers: the refusal is a finding there too."""
    with scratch_database(pg_admin) as scratch:
        sleeper = Background(scratch, "SELECT pg_sleep(60)", application_name="pgt-su")
        try:
            remediate = _pg(lab["services"]["postgres"], "remediate")
            result = run_module("pg_backends", dict(remediate, action="terminate", confirm=True,
                                                    pids=[sleeper.pid]))
            assert [f["state"] for f in result["findings"]] == ["permission_denied"], result
        finally:
            sleeper.close()
    assert isinstance(sleeper.error, (type(None), psycopg2.Error))


# --- Redis ----------------------------------------------------------------------------------------

def _redis(svc, principal):
    who = svc["principals"][principal]
    return {"host": svc["host"], "port": svc["port"], "username": who["user"], "password": who["password"],
            "db": REDIS_TEST_DB, "connect_timeout": 3.0}


@pytest.fixture
def queues(lab):
    svc = lab["services"]["redis"]
    client = redis.Redis(host=svc["host"], port=svc["port"], db=REDIS_TEST_DB, username=svc["user"],
                         password=svc["password"], socket_timeout=10)
    prefix = "lp:%s:" % uuid.uuid4().hex[:8]
    main, dead = prefix + "sync_queue", prefix + "sync_queue:dead"
    client.lpush(main, *["job-%d" % i for i in range(5)])
    client.lpush(dead, *["dead-%d" % i for i in range(3)])
    yield client, main, dead
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def test_redis_monitor_diagnoses_and_is_refused_every_change(lab, queues):
    client, main, dead = queues
    monitor = _redis(lab["services"]["redis"], "monitor")
    health = run_module("redis_health", dict(monitor, slowlog_count=5))
    assert health.get("failed") is not True, health
    assert _permission(health["findings"]) == []
    assert {f["check"] for f in health["findings"]} >= {"redis_reachable", "redis_memory_usage"}
    measured = run_module("redis_queue", dict(monitor, queues=[main, dead], samples=1, peek=2))
    assert [q["length"] for q in measured["queues"]] == [5, 3] and measured["queues"][0]["peek"] == ["job-0", "job-1"]
    for action in (dict(requeue_from=dead, requeue_to=main), dict(purge=main, confirm=main),
                   dict(flushdb=True, confirm="db%d" % REDIS_TEST_DB)):
        result = run_module("redis_queue", dict(monitor, **action))
        assert result.get("failed") is not True, result
        [finding] = result["findings"]
        assert (finding["check"], finding["status"], finding["state"]) == ("redis_permission", "critical",
                                                                           "permission_denied"), result
        assert "no permissions to run" in finding["message"]
        assert monitor["password"] not in json.dumps(result)
    assert (client.llen(main), client.llen(dead)) == (5, 3)


def test_queue_backlog_scenario_per_principal(lab, queues):
    client, main, dead = queues
    svc = lab["services"]["redis"]

    def run(principal):
        variables = {"opsbook_redis": dict(_redis(svc, principal)), "queue_backlog_db": REDIS_TEST_DB,
                     "queue_backlog_queues": [main], "queue_backlog_samples": 1, "queue_backlog_recheck_samples": 1,
                     "queue_backlog_length_warn": 1, "queue_backlog_dead_letter_queue": dead}
        proc = run_cli("run", "queue-backlog", "--json", "--remediate", "-e", json.dumps(variables))
        assert "Traceback" not in proc.stderr
        return proc, json.loads(proc.stdout)

    proc, refused = run("monitor")
    assert refused["run"]["failed"] is False, (refused["failures"], proc.stderr)
    [finding] = _permission(refused["findings"])
    assert (finding["check"], finding["phase"]) == ("redis_permission", "remediate")
    assert refused["outcome"] == "action_needed" and proc.returncode in (1, 2)
    assert (client.llen(main), client.llen(dead)) == (5, 3)

    proc, done = run("remediate")
    assert done["run"]["failed"] is False, (done["failures"], proc.stderr)
    assert _permission(done["findings"]) == []
    assert [a["action"] for a in done["actions"] if a["changed"]] == ["requeue"]
    assert (client.llen(main), client.llen(dead)) == (8, 0)
