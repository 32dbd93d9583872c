# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""VACUUM / ANALYZE / REINDEX / pg_rotate_logfile(), one statement at a time, outside a transaction.

Seeds: ML Bling ("REINDEX TABLE products", "ANALYZE", monthly "VACUUM ANALYZE"), ETL monthly
("REINDEX DATABASE etl_production", "ANALYZE"), ConectCRM DiskSpaceRunningOut
("SELECT pg_rotate_logfile()").
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import common as postgres
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput, MissingDependency
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import make_action

try:
    from psycopg2 import sql

    HAS_PSYCOPG2 = True
except ImportError:  # pragma: no cover - exercised by ansible-test sanity
    HAS_PSYCOPG2 = False

OPERATIONS = ("vacuum", "analyze", "reindex", "rotate_logfile")
REINDEX_CONCURRENTLY_SINCE = 120000


def qualified(name):
    """``schema.table`` or ``table`` -> a quoted identifier (split on the first dot)."""
    parts = name.split(".", 1)
    return sql.Identifier(*parts)


def check_relations(conn, names, option, kind):
    """Raise InvalidInput naming ``option`` for relations that do not exist or are not ``kind``."""
    missing = []
    for name in names:
        row = postgres.query_one(conn, "SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass(%s)",
                                 (postgres_quote(name),))
        if row is None or row["relkind"] not in kind:
            missing.append(name)
    if missing:
        raise InvalidInput("%s: no such %s: %s" % (option, "index" if kind == ("i", "I") else "table",
                                                   ", ".join(missing)))


def postgres_quote(name):
    return ".".join('"%s"' % p.replace('"', '""') for p in name.split(".", 1))


def plan(params, version_num, database):
    """The statements to run (psycopg2 ``Composable``), in order."""
    op = params["operation"]
    tables = params.get("tables") or []
    indexes = params.get("indexes") or []
    if indexes and op != "reindex":
        raise InvalidInput("indexes only applies to operation=reindex")
    if op == "rotate_logfile":
        return [sql.SQL("SELECT pg_rotate_logfile()")]
    if op in ("vacuum", "analyze"):
        opts = [name for name, on in (("FULL", params.get("full")), ("ANALYZE", params.get("analyze"))) if on]
        if op == "analyze":
            opts = []
        head = sql.SQL(op.upper() + (" (%s)" % ", ".join(opts) if opts else ""))
        if not tables:
            return [head]
        return [sql.SQL("{} {}").format(head, qualified(t)) for t in tables]
    conc = sql.SQL(" CONCURRENTLY" if params.get("concurrently") and version_num >= REINDEX_CONCURRENTLY_SINCE else "")
    if params.get("reindex_database"):
        if tables or indexes:
            raise InvalidInput("reindex_database cannot be combined with tables or indexes")
        return [sql.SQL("REINDEX DATABASE{} {}").format(conc, sql.Identifier(database))]
    if not tables and not indexes:
        raise InvalidInput("operation=reindex needs tables, indexes or reindex_database=true")
    stmts = [sql.SQL("REINDEX TABLE{} {}").format(conc, qualified(t)) for t in tables]
    return stmts + [sql.SQL("REINDEX INDEX{} {}").format(conc, qualified(i)) for i in indexes]


def run(params, check_mode):
    if not HAS_PSYCOPG2:
        raise MissingDependency("psycopg2")
    op = params.get("operation")
    if op not in OPERATIONS:
        raise InvalidInput("operation must be one of %s, got %r" % (", ".join(OPERATIONS), op))
    if params.get("full") and not params.get("confirm"):
        raise InvalidInput("full=true (VACUUM FULL) locks each table exclusively and rewrites it: it needs confirm=true")
    target = postgres.describe_target(params)
    with postgres.connection(params, autocommit=True) as conn:
        version_num = int(postgres.query_one(conn, "SELECT current_setting('server_version_num') AS v")["v"])
        database = postgres.query_one(conn, "SELECT current_database() AS d")["d"]
        check_relations(conn, params.get("tables") or [], "tables", ("r", "m", "p"))
        check_relations(conn, params.get("indexes") or [], "indexes", ("i", "I"))
        statements = [stmt.as_string(conn) for stmt in plan(params, version_num, database)]
        operations, actions = [], []
        for statement in statements:
            if check_mode:
                operations.append({"statement": statement, "duration": None, "executed": False})
                actions.append(make_action(op, target, False, True, statement))
                continue
            started = time.time()
            postgres.query(conn, statement)
            duration = round(time.time() - started, 3)
            operations.append({"statement": statement, "duration": duration, "executed": True})
            actions.append(make_action(op, target, True, False, "%s (%.3f s)" % (statement, duration)))
    return {
        "changed": bool(statements),
        "operation": op,
        "concurrently": bool(params.get("concurrently") and op == "reindex" and version_num >= REINDEX_CONCURRENTLY_SINCE),
        "statements": statements,
        "operations": operations,
        "actions": actions,
        "server_version_num": version_num,
    }
