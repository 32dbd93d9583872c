# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL backup and restore with verified integrity (pg_dump / pg_restore).

The client tools run on the host that runs the module, against a (remote) server
over TCP.  The password reaches them only through the ``PGPASSWORD`` environment
variable (or the caller's own ``PGPASSFILE``); it is never on a command line or
written to a file.

Consistency: the module opens a REPEATABLE READ transaction, exports its
snapshot, counts and checksums every table inside it, and runs ``pg_dump
--snapshot`` on the same snapshot, so the manifest describes exactly what the
dump holds.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re
import subprocess
import tempfile
import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.backup import common as backup_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import common as postgres
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import (
    InvalidInput,
    ServiceError,
    scrub,
)
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.paths import join_inside
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    CRITICAL,
    OK,
    make_finding,
)

try:
    from psycopg2 import sql
except ImportError:  # pragma: no cover - postgres.connect raises MissingDependency first
    sql = None

KIND = "postgres"
FORMATS = ("custom", "directory")
DUMP_NAME = {"custom": "dump.pgcustom", "directory": "dump.d"}
_DBNAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]{0,62}\Z")

# Stable text rendering of rows, so checksums match between source and restore.
_SESSION_SETTINGS = (
    "SET LOCAL TimeZone = 'UTC'",
    "SET LOCAL DateStyle = 'ISO, YMD'",
    "SET LOCAL IntervalStyle = 'postgres'",
    "SET LOCAL extra_float_digits = 1",
    "SET LOCAL bytea_output = 'hex'",
)

_TABLES_SQL = """
SELECT n.nspname AS schema, c.relname AS name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%%' AND n.nspname NOT LIKE 'pg_temp%%'
ORDER BY 1, 2
"""

_SEQUENCES_SQL = """
SELECT schemaname AS schema, sequencename AS name, last_value
FROM pg_sequences ORDER BY 1, 2
"""

_LARGE_OBJECTS_SQL = """
SELECT count(*) AS count,
       coalesce(md5(string_agg(oid::text || ':' || md5(lo_get(oid)), ',' ORDER BY oid)), md5('')) AS checksum
FROM pg_largeobject_metadata
"""


def backup_argument_spec():
    spec = postgres.postgres_common_argument_spec()
    spec.update(backup_common.retention_argument_spec())
    spec.update(
        format=dict(type="str", default="custom", choices=list(FORMATS)),
        jobs=dict(type="int", default=1),
        compress=dict(type="int", default=6),
        bin_dir=dict(type="path"),
        checksums=dict(type="bool", default=True),
        dump_timeout=dict(type="int", default=3600),
        exec_in=dict(type="dict"),
    )
    return spec


def restore_argument_spec():
    spec = postgres.postgres_common_argument_spec()
    spec.update(
        backup=dict(type="path"),
        location=dict(type="path"),
        label=dict(type="str"),
        target_database=dict(type="str", required=True),
        mode=dict(type="str", default="create", choices=["create", "replace"]),
        confirm=dict(type="str"),
        jobs=dict(type="int", default=1),
        bin_dir=dict(type="path"),
        no_owner=dict(type="bool", default=False),
        verify=dict(type="bool", default=True),
        drop_after_verify=dict(type="bool", default=False),
        restore_timeout=dict(type="int", default=3600),
        exec_in=dict(type="dict"),
    )
    return spec


# --- tools ---------------------------------------------------------------------------

def find_tool(name, bin_dir=None):
    """Path of a PostgreSQL client tool: ``bin_dir``, then PATH, then the newest /usr/lib/postgresql/*/bin."""
    if bin_dir:
        candidate = os.path.join(bin_dir, name)
        if os.access(candidate, os.X_OK):
            return candidate
        raise InvalidInput("bin_dir: %s has no executable %s" % (bin_dir, name))
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(directory, name)
        if directory and os.access(candidate, os.X_OK):
            return candidate
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/%s" % name),
                      key=lambda p: [int(x) for x in re.findall(r"\d+", p)], reverse=True)
    if versions:
        return versions[0]
    raise InvalidInput("bin_dir: %s was not found on PATH or in /usr/lib/postgresql/*/bin" % name)


def tool_env(params):
    """Environment for libpq tools: the password only via PGPASSWORD, never argv."""
    env = dict(os.environ)
    for key in ("PGPASSWORD", "PGSERVICE", "PGOPTIONS"):
        env.pop(key, None)
    env.update(PGSSLMODE=params.get("sslmode") or "prefer",
               PGCONNECT_TIMEOUT=str(params.get("connect_timeout") or 5),
               PGAPPNAME="opsbook-backup")
    if params.get("password"):
        env["PGPASSWORD"] = params["password"]
    if params.get("sslrootcert"):
        env["PGSSLROOTCERT"] = params["sslrootcert"]
    return env


def connection_args(params, database):
    """libpq tools' connection options; the database as a quoted conninfo ``dbname='...'``, so a name with
    ``=`` or a ``postgresql://`` prefix is never read as a connection string of its own (another host)."""
    return ["--host", str(params["host"]), "--port", str(params["port"]),
            "--username", str(params["user"]), "--no-password", "--dbname", postgres.conninfo_dbname(database)]


def wrap_command(params, argv):
    """Where a command is run.  Today: the controller (client tools over TCP).

    Hook for the workload module (issue 8): with ``exec_in`` (a pod/container
    reference) this is where ``argv`` will be wrapped in ``kubectl exec`` /
    ``docker exec``.  Until then it is refused with a clear message.
    """
    if params.get("exec_in"):
        raise InvalidInput("exec_in: running pg_dump/pg_restore inside a pod or container needs the workload "
                           "backends (not available yet); run the client tools on the controller instead")
    return argv


def tool_version(path):
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise InvalidInput("bin_dir: cannot run %s: %s" % (path, exc))
    return out.strip()


def start_tool(params, argv):
    """Start a client tool; stderr goes to an unnamed temporary file (never a pipe that can fill)."""
    argv = wrap_command(params, argv)
    errfile = tempfile.TemporaryFile()
    try:
        proc = subprocess.Popen(argv, env=tool_env(params), stdout=subprocess.DEVNULL, stderr=errfile,
                                stdin=subprocess.DEVNULL)
    except OSError as exc:
        errfile.close()
        raise ServiceError("cannot run %s: %s" % (os.path.basename(argv[0]), exc))
    return proc, errfile


def finish_tool(params, started, timeout, what):
    """Wait for a tool from :func:`start_tool`; raise ServiceError (scrubbed) on failure, signal or timeout."""
    proc, errfile = started
    try:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise ServiceError("%s did not finish within %ss and was stopped" % (what, timeout))
        errfile.seek(0)
        text = scrub(errfile.read().decode("utf-8", "replace").strip(), [params.get("password")])
    finally:
        errfile.close()
    if proc.returncode != 0:
        how = ("was killed by signal %d" % -proc.returncode) if proc.returncode < 0 else ("exited %d" % proc.returncode)
        raise ServiceError("%s %s%s" % (what, how, (": " + text[-1500:]) if text else ""))
    return text


def run_tool(params, argv, timeout, what):
    return finish_tool(params, start_tool(params, argv), timeout, what)


# --- content fingerprints -------------------------------------------------------------

def apply_session_settings(conn):
    for statement in _SESSION_SETTINGS:
        postgres.query(conn, statement)


def table_stats(conn, checksums=True):
    """Row count and content checksum of every user table, in the current transaction.

    The checksum is the md5 of the sorted md5s of each row's text form, so row
    order on disk does not matter.
    """
    tables = []
    for row in postgres.query(conn, _TABLES_SQL):
        rel = sql.Identifier(row["schema"], row["name"])
        if checksums:
            stat = postgres.query_one(conn, sql.SQL(
                "SELECT count(*) AS rows, coalesce(md5(string_agg(md5(t::text), ',' ORDER BY md5(t::text))), md5(''))"
                " AS checksum FROM ONLY {} t").format(rel))
        else:
            stat = postgres.query_one(conn, sql.SQL("SELECT count(*) AS rows, NULL AS checksum FROM ONLY {}").format(rel))
        tables.append({"schema": row["schema"], "name": row["name"], "rows": int(stat["rows"]),
                       "checksum": stat["checksum"]})
    return tables


def database_fingerprint(conn, checksums=True):
    apply_session_settings(conn)
    lo = postgres.query_one(conn, _LARGE_OBJECTS_SQL)
    return {
        "tables": table_stats(conn, checksums),
        "sequences": [dict(s, last_value=None if s["last_value"] is None else int(s["last_value"]))
                      for s in postgres.query(conn, _SEQUENCES_SQL)],
        "large_objects": {"count": int(lo["count"]), "checksum": lo["checksum"] if checksums else None},
    }


def compare_fingerprints(expected, actual):
    """Differences between the manifest's fingerprint and the restored database's."""
    problems = []
    want = dict(("%s.%s" % (t["schema"], t["name"]), t) for t in expected.get("tables", []))
    have = dict(("%s.%s" % (t["schema"], t["name"]), t) for t in actual.get("tables", []))
    for name in sorted(set(want) - set(have)):
        problems.append("table %s is missing" % name)
    for name in sorted(set(have) - set(want)):
        problems.append("table %s is not in the backup" % name)
    for name in sorted(set(want) & set(have)):
        if want[name]["rows"] != have[name]["rows"]:
            problems.append("table %s has %d rows, the backup %d" % (name, have[name]["rows"], want[name]["rows"]))
        elif want[name]["checksum"] and want[name]["checksum"] != have[name]["checksum"]:
            problems.append("table %s content checksum differs from the backup" % name)
    seq_want = dict(("%s.%s" % (s["schema"], s["name"]), s["last_value"]) for s in expected.get("sequences", []))
    seq_have = dict(("%s.%s" % (s["schema"], s["name"]), s["last_value"]) for s in actual.get("sequences", []))
    for name in sorted(seq_want):
        if seq_have.get(name, "missing") != seq_want[name]:
            problems.append("sequence %s is at %s, the backup %s" % (name, seq_have.get(name, "missing"), seq_want[name]))
    lo_want, lo_have = expected.get("large_objects") or {}, actual.get("large_objects") or {}
    if lo_want.get("count") != lo_have.get("count"):
        problems.append("%s large objects, the backup %s" % (lo_have.get("count"), lo_want.get("count")))
    elif lo_want.get("checksum") and lo_want.get("checksum") != lo_have.get("checksum"):
        problems.append("large object content differs from the backup")
    return problems


# --- backup ---------------------------------------------------------------------------

def validate_backup_params(params):
    if params["jobs"] < 1:
        raise InvalidInput("jobs: must be at least 1, got %d" % params["jobs"])
    if params["jobs"] > 1 and params["format"] != "directory":
        raise InvalidInput("jobs: parallel dumps need format=directory (got format=%s)" % params["format"])
    if not 0 <= params["compress"] <= 9:
        raise InvalidInput("compress: must be 0-9, got %d" % params["compress"])
    if params["dump_timeout"] < 1:
        raise InvalidInput("dump_timeout: must be at least 1 second")
    wrap_command(params, [])


def backup(params, check_mode=False):
    """pg_dump the database into a new published backup; returns the module result."""
    validate_backup_params(params)
    pg_dump = find_tool("pg_dump", params.get("bin_dir"))
    database = params["database"]
    label = params.get("label") or database
    target = postgres.describe_target(params)

    if check_mode:
        with postgres.connection(params):
            pass
        result = backup_common.run_backup(params, KIND, label, True, None)
        result.update(target=target, findings=[make_finding(
            "postgres_backup", OK, "would back up %s into %s" % (database, result["location"]), target=target)])
        return result

    def write(staging):
        # the checksum pass reads every row: bound it by the dump's timeout, not the short statement_timeout
        conn = postgres.connect(dict(params, statement_timeout=params["dump_timeout"] * 1000), autocommit=False)
        try:
            postgres.query(conn, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            snapshot = postgres.query_one(conn, "SELECT pg_export_snapshot() AS id")["id"]
            server = postgres.query_one(conn, "SELECT current_setting('server_version') AS v, "
                                              "current_setting('server_encoding') AS enc")
            out = staging.file(DUMP_NAME[params["format"]])
            argv = [pg_dump, "--format", params["format"], "--compress", str(params["compress"]),
                    "--snapshot", snapshot, "--file", out] + connection_args(params, database)
            if params["format"] == "directory":
                argv += ["--jobs", str(params["jobs"])]
            dump_started = time.time()
            # pg_dump and the fingerprint read the same exported snapshot, which stays
            # valid while this transaction is open
            proc = start_tool(params, argv)
            try:
                fingerprint = database_fingerprint(conn, params["checksums"])
            except BaseException:
                proc[0].kill()
                proc[0].wait()
                proc[1].close()
                raise
            finish_tool(params, proc, params["dump_timeout"], "pg_dump of %s" % database)
            dump_seconds = round(time.time() - dump_started, 3)
        finally:
            conn.rollback()
            conn.close()
        details = {
            "database": database,
            "server": {"host": params["host"], "port": params["port"], "version": server["v"],
                       "encoding": server["enc"]},
            "format": params["format"],
            "compress": params["compress"],
            "jobs": params["jobs"],
            "dump": DUMP_NAME[params["format"]],
            "snapshot": snapshot,
            "dump_seconds": dump_seconds,
            "checksums": bool(params["checksums"]),
        }
        details.update(fingerprint)
        return details

    result = backup_common.run_backup(params, KIND, label, False, write,
                                      tools=lambda: {"pg_dump": tool_version(pg_dump)})
    details = result["manifest"]["details"]
    rows = sum(t["rows"] for t in details["tables"])
    result.update(target=target, findings=[make_finding(
        "postgres_backup", OK,
        "backed up %s (%d tables, %d rows, %d large objects, %d bytes) in %.1fs to %s"
        % (database, len(details["tables"]), rows, details["large_objects"]["count"], result["size"],
           result["duration"], result["backup"]),
        value=result["size"], unit="bytes", target=target)])
    return result


# --- restore --------------------------------------------------------------------------

def validate_restore_params(params):
    name = params["target_database"]
    if not _DBNAME_RE.match(name or ""):
        raise InvalidInput("target_database: %r is not a plain database name" % name)
    if params["mode"] == "replace" and params.get("confirm") != name:
        raise InvalidInput("confirm: replacing database %s drops it first; set confirm: %s to allow it" % (name, name))
    if params["jobs"] < 1:
        raise InvalidInput("jobs: must be at least 1, got %d" % params["jobs"])
    wrap_command(params, [])


def _database_exists(conn, name):
    return postgres.query_one(conn, "SELECT 1 AS x FROM pg_database WHERE datname = %s", (name,)) is not None


def admin_params(params, target_db):
    """Connection parameters for CREATE/DROP DATABASE: never the target database itself."""
    if params.get("database") != target_db:
        return params
    return dict(params, database="template1" if target_db == "postgres" else "postgres")


def restore(params, check_mode=False):
    """Verify a backup, restore it into ``target_database`` and verify the result."""
    validate_restore_params(params)
    target_db = params["target_database"]
    admin_conn = admin_params(params, target_db)
    target = "%s@%s:%s/%s" % (params["user"], params["host"], params["port"], target_db)
    manifest, result, findings = backup_common.open_for_restore(params, KIND, "postgres_backup_integrity", target)
    result["target_database"] = target_db
    if findings is None:
        return result
    details = manifest["details"]
    pg_restore = find_tool("pg_restore", params.get("bin_dir"))
    with postgres.connection(admin_conn) as admin:
        exists = _database_exists(admin, target_db)
        if exists and params["mode"] == "create":
            raise InvalidInput("target_database: %s already exists; use a new name, or mode: replace with "
                               "confirm: %s" % (target_db, target_db))
        if check_mode:
            result["changed"] = True
            findings.append(make_finding("postgres_restore", OK, "would %s database %s from %s" % (
                "replace" if exists else "create", target_db, manifest["name"]), target=target))
            result["findings"] = findings
            return backup_common.finish_timing(result)
        if exists:
            postgres.query(admin, sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(target_db)))
        postgres.query(admin, sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING %s").format(sql.Identifier(target_db)),
                       (details["server"]["encoding"],))
    result["changed"] = True
    argv = [pg_restore, "--exit-on-error", "--jobs", str(params["jobs"])] + connection_args(params, target_db)
    if params["no_owner"]:
        argv += ["--no-owner", "--no-privileges"]
    argv.append(join_inside(result["backup"], details["dump"], "manifest details.dump"))
    restore_started = time.time()
    try:
        run_tool(params, argv, params["restore_timeout"], "pg_restore into %s" % target_db)
    except ServiceError as exc:
        # a half-restored database must not pass for a restored one: drop what this run created
        with postgres.connection(admin_conn) as admin:
            postgres.query(admin, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target_db)))
        raise ServiceError("%s; the partially restored database %s was dropped" % (exc, target_db))
    result["restored"] = True
    result["restore_seconds"] = round(time.time() - restore_started, 3)
    if params["verify"]:
        checked = dict(params, database=target_db, statement_timeout=params["restore_timeout"] * 1000)
        conn = postgres.connect(checked, autocommit=False)
        try:
            actual = database_fingerprint(conn, checksums=details.get("checksums", True))
        finally:
            conn.rollback()
            conn.close()
        mismatches = compare_fingerprints(details, actual)
        result["problems"] = mismatches
        result["verified"] = not mismatches
        rows = sum(t["rows"] for t in actual["tables"])
        if mismatches:
            findings.append(make_finding("postgres_restore_verified", CRITICAL,
                                         "%s differs from backup %s: %s" % (target_db, manifest["name"],
                                                                            "; ".join(mismatches[:5])),
                                         value=len(mismatches), target=target, phase="verify"))
        else:
            findings.append(make_finding(
                "postgres_restore_verified", OK,
                "%s matches backup %s: %d tables, %d rows, %d sequences, %d large objects"
                % (target_db, manifest["name"], len(actual["tables"]), rows, len(actual["sequences"]),
                   actual["large_objects"]["count"]), value=0, target=target, phase="verify"))
    if params["drop_after_verify"]:
        with postgres.connection(admin_conn) as admin:
            postgres.query(admin, sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(target_db)))
        result["dropped"] = True
    result["findings"] = findings
    return backup_common.finish_timing(result)
