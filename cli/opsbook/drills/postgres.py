"""PostgreSQL faults: sessions held open in a throw-away database, on raw connections (psycopg2, as psql
would), with a bounded wait for a condition in pg_stat_activity. The PostgreSQL drills of the test suite
and `opsbook drill postgres-connection-pool` use the same pieces."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid

import psycopg2

from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres.common import describe_target


def connect(params: dict, database: str | None = None, autocommit: bool = True, application_name: str = "pgt"):
    conn = psycopg2.connect(host=params["host"], port=params["port"], user=params["user"],
                            password=params["password"], dbname=database or params["database"],
                            connect_timeout=5, application_name=application_name)
    conn.autocommit = autocommit
    return conn


def scalar(conn, sql: str, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()[0]


def rows(conn, sql: str, args=None) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def execute(conn, sql: str, args=None) -> None:
    with conn.cursor() as cur:
        cur.execute(sql, args)


@contextlib.contextmanager
def scratch_database(params: dict, prefix: str = "pgt_"):
    """Create ``<prefix><random>``; yield module params pointing at it; drop it (WITH FORCE) after."""
    name = prefix + uuid.uuid4().hex[:10]
    admin = connect(params)
    try:
        execute(admin, f'CREATE DATABASE "{name}"')
        yield dict(params, database=name)
    finally:
        execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.1):
    """Poll ``predicate()`` until it is truthy (bounded); return its last value."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value


class Background:
    """Run one statement on its own connection in a thread (for blocking or sleeping queries)."""

    def __init__(self, params: dict, sql: str, application_name: str = "pgt"):
        self.conn = connect(params, application_name=application_name)
        self.pid = self.conn.get_backend_pid()
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._run, args=(sql,), daemon=True)
        self.thread.start()

    def _run(self, sql: str) -> None:
        try:
            execute(self.conn, sql)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            self.error = exc

    def close(self, wait: float = 0.0, timeout: float = 10) -> None:
        """Give the statement ``wait`` seconds to finish, cancel it if still running, close."""
        self.thread.join(wait)
        if self.thread.is_alive():
            with contextlib.suppress(Exception):
                self.conn.cancel()
        self.thread.join(timeout)
        with contextlib.suppress(Exception):
            self.conn.close()


class IdleInTransaction:
    """Fault ``postgres-connection-pool``: sessions left idle in transaction (a leaked pool's connections,
    ConectCRM DatabaseConnectionPoolExhausted), in a database of the drill's own, held past the seed's
    termination threshold (``postgres_connection_pool_terminate_seconds``, 30 s) before the scenario runs.

    The scenario is limited to that database and confirmed for it alone: nothing else in the lab is
    terminated. ``present()`` asks pg_stat_activity, not the scenario.
    """

    sessions = 3
    hold_seconds = 30  # the role's default terminate threshold (the seed's); the drill waits past it
    detect_checks = ("postgres_long_queries",)

    def __init__(self, pg: dict):
        self.params = {k: pg[k] for k in ("host", "port", "user", "password", "database")}
        self.target = describe_target(pg)  # the lab inventory's opsbook_postgres: pg_health's finding target
        self.database: str | None = None
        self.conns: list = []
        self.pids: list[int] = []
        self._scratch = None

    def describe(self) -> str:
        return f"{self.sessions} sessions idle in transaction in {self.database or 'a scratch database'}"

    def baseline(self) -> str | None:
        try:
            connect(self.params).close()
        except psycopg2.Error as exc:
            return f"the lab's PostgreSQL does not answer ({str(exc).strip()}): `opsbook lab up`"
        return None

    def _alive(self) -> list[int]:
        admin = connect(self.params, application_name="opsbook-drill-admin")
        try:
            return sorted(r[0] for r in rows(admin, "SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", (self.pids,)))
        finally:
            admin.close()

    def present(self) -> bool:
        return bool(self.pids) and bool(self._alive())

    def observe(self) -> str:
        alive = self._alive() if self.pids else []
        return f"{len(alive)} of the {len(self.pids)} drill sessions alive in pg_stat_activity ({self.database})"

    def inject(self) -> str:
        self._scratch = scratch_database(self.params, prefix="opsbook_drill_")
        self.database = self._scratch.__enter__()["database"]
        db = dict(self.params, database=self.database)
        for _ in range(self.sessions):
            conn = connect(db, autocommit=False, application_name="opsbook-drill")
            execute(conn, "SELECT 1")  # BEGIN (psycopg2 opens it) + one statement: idle in transaction from now
            self.conns.append(conn)
            self.pids.append(conn.get_backend_pid())
        admin = connect(self.params, application_name="opsbook-drill-admin")
        try:
            held = wait_until(lambda: len(rows(
                admin, "SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s) AND state = 'idle in transaction' "
                       "AND now() - query_start > make_interval(secs => %s)", (self.pids, self.hold_seconds + 1)
            )) == self.sessions, timeout=self.hold_seconds + 30, interval=0.5)
        finally:
            admin.close()
        if not held:
            raise RuntimeError(f"the sessions were not idle in transaction for {self.hold_seconds + 1} s")
        return f"{self.describe()} for more than {self.hold_seconds} s (pids {', '.join(map(str, self.pids))})"

    def variables(self) -> dict:
        return {"postgres_connection_pool_databases": [self.database]}

    def confirm(self) -> tuple[str, ...]:
        return (self.database,)  # terminating backends is confirmed per database: only the drill's own

    def cleanup(self) -> str:
        for conn in self.conns:
            with contextlib.suppress(Exception):
                conn.close()
        if self._scratch is not None:
            self._scratch.__exit__(None, None, None)
            return f"closed the drill's sessions and dropped {self.database}"
        return "nothing to put back"
