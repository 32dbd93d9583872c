# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way opsbook connects to PostgreSQL (psycopg2).

``postgres_common_argument_spec()`` is documented by the doc fragment
``opsbook.runbooks.postgres``; a unit test keeps the two identical.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import datetime
import decimal

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import (
    InvalidInput,
    MissingDependency,
    PermissionDenied,
    ServiceError,
    ServiceUnreachable,
    scrub,
)

try:
    import psycopg2
    import psycopg2.extras

    HAS_PSYCOPG2 = True
    PSYCOPG2_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised by ansible-test sanity
    HAS_PSYCOPG2 = False
    PSYCOPG2_IMPORT_ERROR = exc


def postgres_common_argument_spec():
    """Connection options every PostgreSQL module accepts."""
    return dict(
        host=dict(type="str", default="127.0.0.1", aliases=["login_host"]),
        port=dict(type="int", default=5432, aliases=["login_port"]),
        user=dict(type="str", default="postgres", aliases=["login_user"]),
        password=dict(type="str", no_log=True, aliases=["login_password"]),
        database=dict(type="str", default="postgres", aliases=["db", "login_db"]),
        sslmode=dict(
            type="str",
            default="prefer",
            choices=["disable", "allow", "prefer", "require", "verify-ca", "verify-full"],
        ),
        sslrootcert=dict(type="path"),
        connect_timeout=dict(type="int", default=5),
        statement_timeout=dict(type="int", default=30000),
    )


def conn_params(params):
    """Map module options to psycopg2 keyword arguments.

    A ``host`` starting with ``/`` is a Unix socket directory, as with libpq.
    """
    kwargs = {
        "host": params.get("host"),
        "port": params.get("port"),
        "user": params.get("user"),
        "dbname": params.get("database"),
        "sslmode": params.get("sslmode") or "prefer",
        "connect_timeout": params.get("connect_timeout") or 5,
        "application_name": "opsbook",
    }
    if params.get("password"):
        kwargs["password"] = params["password"]
    if params.get("sslrootcert"):
        kwargs["sslrootcert"] = params["sslrootcert"]
    timeout = params.get("statement_timeout")
    if timeout:
        kwargs["options"] = "-c statement_timeout=%d" % int(timeout)
    return kwargs


def conninfo_dbname(name):
    """``dbname='name'`` for libpq tools' ``--dbname``: quoted per libpq's conninfo rules (backslash before
    ``'`` and ``\\``), so the name is only ever a database name, whatever it holds (``=``, spaces, a URI)."""
    if not isinstance(name, str) or not name or "\x00" in name:
        raise InvalidInput("database: %r is not a database name" % (name,))
    return "dbname='%s'" % name.replace("\\", "\\\\").replace("'", "\\'")


def describe_target(params):
    """``user@host:port/database`` without the password."""
    return "%s@%s:%s/%s" % (params.get("user"), params.get("host"), params.get("port"), params.get("database"))


def connect(params, autocommit=True):
    """Open a connection; raise ServiceUnreachable with a scrubbed message."""
    if not HAS_PSYCOPG2:
        raise MissingDependency("psycopg2", PSYCOPG2_IMPORT_ERROR)
    kwargs = conn_params(params)
    try:
        conn = psycopg2.connect(**kwargs)
    except psycopg2.Error as exc:
        raise ServiceUnreachable(
            "cannot connect to PostgreSQL at %s: %s"
            % (describe_target(params), scrub(str(exc).strip(), [params.get("password")]))
        )
    conn.autocommit = autocommit
    return conn


@contextlib.contextmanager
def connection(params, autocommit=True):
    """Context manager around :func:`connect` that always closes."""
    conn = connect(params, autocommit=autocommit)
    try:
        yield conn
    finally:
        conn.close()


def query(conn, sql, args=None):
    """Run ``sql`` and return the rows as dicts."""
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(sql, args)
            if cur.description is None:
                return []
            return [dict(row) for row in cur.fetchall()]
    except psycopg2.Error as exc:
        raise query_error(exc)


INSUFFICIENT_PRIVILEGE = "42501"


def query_error(exc):
    """The opsbook error for a psycopg2 error: PermissionDenied for SQLSTATE 42501, else ServiceError."""
    text = str(exc).strip()
    if getattr(exc, "pgcode", None) == INSUFFICIENT_PRIVILEGE:
        return PermissionDenied("PostgreSQL refused it: %s" % " ".join(text.split()))
    return ServiceError("PostgreSQL query failed: %s" % text)


def query_one(conn, sql, args=None):
    rows = query(conn, sql, args)
    return rows[0] if rows else None


def jsonable(value):
    """``value`` (a row, list or scalar from psycopg2) with types JSON can carry:
    Decimal -> float, datetime/date -> ISO 8601, timedelta -> seconds, memoryview -> hex."""
    if isinstance(value, dict):
        return dict((k, jsonable(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, memoryview):
        return value.tobytes().hex()
    return value
