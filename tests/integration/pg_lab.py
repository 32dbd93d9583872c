"""Helpers for the PostgreSQL drills: a throw-away database per test module, raw connections,
and a bounded wait for a condition in pg_stat_activity."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid

import psycopg2


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
def scratch_database(params: dict):
    """Create ``pgt_<random>``; yield module params pointing at it; drop it (WITH FORCE) after."""
    name = "pgt_" + uuid.uuid4().hex[:10]
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
