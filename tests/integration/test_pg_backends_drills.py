"""pg_backends drills: pg_sleep queries over a threshold are found, and exactly those are hit."""

from __future__ import annotations

import psycopg2
import pytest

from tests.helpers import closed_port, run_module
from opsbook.drills.postgres import Background, connect, execute, rows, scratch_database, wait_until

SLEEP = "SELECT pg_sleep(30)"


@pytest.fixture(scope="module")
def dbs(pg_params):
    with scratch_database(pg_params) as one, scratch_database(pg_params) as other:
        yield one, other


def alive(admin, pids):
    return sorted(r[0] for r in rows(admin, "SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", (list(pids),)))


def running_for(admin, database, seconds, count):
    return wait_until(lambda: len(rows(
        admin, "SELECT pid FROM pg_stat_activity WHERE datname = %s AND state = 'active' "
               "AND query LIKE 'SELECT pg_sleep%%' AND now() - query_start >= make_interval(secs => %s)",
        (database, seconds))) >= count)


def test_terminate_hits_exactly_the_long_pg_sleep_queries(dbs):
    one, other = dbs
    admin = connect(one)
    idle = connect(one)
    execute(idle, "SELECT pg_sleep(0.01)")  # idle afterwards: same query text, wrong state
    victims = [Background(one, SLEEP, application_name="pgt-victim") for _ in range(3)]
    elsewhere = Background(other, SLEEP, application_name="pgt-victim")
    args = dict(one, databases=[one["database"]], states=["active"], min_duration=1, query_regex=r"pg_sleep\(")
    try:
        assert running_for(admin, one["database"], 1, 3)
        victim_pids = sorted(v.pid for v in victims)
        bystanders = sorted([idle.get_backend_pid(), elsewhere.pid, admin.get_backend_pid()])

        refused = run_module("pg_backends", dict(args, action="terminate"))
        assert refused["failed"] and "confirm=true" in refused["msg"]

        dry = run_module("pg_backends", dict(args, action="terminate", confirm=True), check_mode=True)
        assert sorted(dry["pids"]) == victim_pids
        assert dry["affected_pids"] == [] and dry["changed"] is True
        assert all(a["dry_run"] and not a["changed"] for a in dry["actions"])
        assert alive(admin, victim_pids) == victim_pids

        done = run_module("pg_backends", dict(args, action="terminate", confirm=True))
        assert not done.get("failed"), done
        assert sorted(done["affected_pids"]) == victim_pids
        assert [a["action"] for a in done["actions"]] == ["terminate_backend"] * 3
        assert wait_until(lambda: alive(admin, victim_pids) == [])
        assert alive(admin, bystanders) == bystanders
    finally:
        for bg in victims + [elsewhere]:
            bg.close()
        idle.close()
        admin.close()
    for bg in victims:
        assert isinstance(bg.error, psycopg2.OperationalError)
    assert isinstance(elsewhere.error, psycopg2.errors.QueryCanceled)  # our cleanup, not the module


def test_cancel_keeps_the_session_and_list_filters(dbs):
    one, _ = dbs
    admin = connect(one)
    sleeper = Background(one, SLEEP, application_name="pgt-cancel")
    try:
        assert running_for(admin, one["database"], 0, 1)
        listed = run_module("pg_backends", dict(one, applications=["pgt-cancel"]))
        assert listed["pids"] == [sleeper.pid] and listed["changed"] is False and listed["actions"] == []
        done = run_module("pg_backends", dict(one, action="cancel", applications=["pgt-cancel"]))
        assert done["affected_pids"] == [sleeper.pid]
        sleeper.thread.join(10)
        assert isinstance(sleeper.error, psycopg2.errors.QueryCanceled)
        assert alive(admin, [sleeper.pid]) == [sleeper.pid]
    finally:
        sleeper.close()
        admin.close()


def test_never_its_own_or_background_backends(pg_params):
    result = run_module("pg_backends", dict(pg_params, applications=["opsbook"]))
    assert result["pids"] == []  # the module's own connection (application_name opsbook) is excluded
    every = run_module("pg_backends", pg_params)
    admin = connect(pg_params)
    try:
        background = {r[0] for r in rows(admin, "SELECT pid FROM pg_stat_activity WHERE backend_type <> 'client backend'")}
    finally:
        admin.close()
    assert background and not background & set(every["pids"])


@pytest.mark.parametrize(
    "args, message",
    [
        ({"action": "cancel"}, "needs at least one criterion"),
        ({"query_regex": "("}, "query_regex is not a valid regular expression"),
        ({"min_duration": -1}, "min_duration must be zero or more"),
    ],
)
def test_bad_input_is_one_error_naming_the_option(pg_params, args, message):
    result = run_module("pg_backends", dict(pg_params, **args))
    assert result["failed"] and message in result["msg"]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"password": "wrong-pw-123"}, "password authentication failed"),
        ({"database": "pgt_missing_db"}, 'database "pgt_missing_db" does not exist'),
        ({"port": None}, "cannot connect to PostgreSQL"),
    ],
)
def test_connection_problems_are_one_clear_error(pg_params, change, message):
    if change.get("port", 0) is None:
        change = {"port": closed_port(), "connect_timeout": 2}
    result = run_module("pg_backends", dict(pg_params, **change))
    assert result["failed"] and message in result["msg"]
    assert "wrong-pw-123" not in str(result)
