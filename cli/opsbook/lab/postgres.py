"""PostgreSQL from Debian's packages, run as an unprivileged user, pg_stat_statements preloaded."""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path

from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import common as pg
from psycopg2 import sql

from .base import LabError, MissingTool, RunAs, Service, collection_path, port_open, read_pid, wait_for

INSTALL = "apt-get install -y postgresql postgresql-contrib"
# Least-privilege principals (docs/permissions.md), from the collection's own SQL files:
# name in lab.json -> (role, file under extensions/permissions/postgres/)
PRINCIPALS = {"monitor": ("opsbook_monitor", "opsbook_monitor.sql"),
              "remediate": ("opsbook_remediate", "opsbook_remediate.sql")}


def find_bindir() -> Path:
    """Newest ``/usr/lib/postgresql/<major>/bin`` holding a server."""
    candidates = glob.glob("/usr/lib/postgresql/*/bin/postgres")

    def major(path: str) -> int:
        match = re.search(r"/postgresql/(\d+)/", path)
        return int(match.group(1)) if match else 0

    if not candidates:
        raise MissingTool("PostgreSQL server (postgres, initdb, pg_ctl)", INSTALL)
    return Path(max(candidates, key=major)).parent


class Postgres(Service):
    name = "postgres"
    port = 15432
    user = "opsbook"
    database = "opsbook"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.port = int(os.environ.get("OPSBOOK_LAB_PG_PORT", self.port))
        self.data = self.dir / "data"
        self.run_dir = self.dir / "run"
        self.log_dir = self.dir / "log"

    @property
    def bindir(self) -> Path:
        return find_bindir()

    def check_tools(self) -> None:
        bindir = self.bindir
        for tool in ("initdb", "pg_ctl", "pg_dump", "pg_restore", "psql"):
            if not (bindir / tool).exists():
                raise MissingTool(f"PostgreSQL tool {tool}", INSTALL)
        extension = glob.glob(f"/usr/share/postgresql/{bindir.parent.name}/extension/pg_stat_statements.control")
        if not extension:
            raise MissingTool("PostgreSQL extension pg_stat_statements", INSTALL)
        self.run_as = RunAs.for_server("postgres", INSTALL)

    # --- set-up ------------------------------------------------------------------
    def prepare(self) -> None:
        for path in (self.dir, self.data, self.run_dir, self.log_dir):
            path.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o755)
        os.chmod(self.data, 0o700)
        os.chmod(self.run_dir, 0o700)
        self.run_as.own(self.data, self.run_dir, self.log_dir)
        if not self.run_as.can_reach(self.data):
            raise LabError(
                f"user '{self.run_as.name}' cannot reach {self.data}: choose a lab directory outside "
                "private home directories with --lab-dir or OPSBOOK_LAB_DIR"
            )
        if (self.data / "PG_VERSION").exists():
            return
        self.ctx.log(f"postgres: initialising {self.data}")
        result = self.run_as.run(
            [
                str(self.bindir / "initdb"),
                "-D", str(self.data),
                "-U", "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ]
        )
        if result.returncode != 0:
            raise LabError(f"initdb failed: {result.stderr.strip() or result.stdout.strip()}")
        conf = self.data / "postgresql.conf"
        with open(conf, "a") as handle:
            handle.write(
                "\n# opsbook lab\n"
                f"listen_addresses = '{self.ctx.host}'\n"
                f"port = {self.port}\n"
                f"unix_socket_directories = '{self.run_dir}'\n"
                "max_connections = 100\n"
                "shared_preload_libraries = 'pg_stat_statements'\n"
                "pg_stat_statements.track = all\n"
                "track_io_timing = on\n"
                "logging_collector = on\n"
                f"log_directory = '{self.log_dir}'\n"
                "log_filename = 'postgresql-%Y-%m-%d_%H%M%S.log'\n"
                "log_min_duration_statement = 1000\n"
                "log_lock_waits = on\n"
            )
        self._needs_bootstrap = True

    def start(self) -> None:
        self.ctx.log(f"postgres: starting on {self.ctx.host}:{self.port}")
        result = self.run_as.run(
            [
                str(self.bindir / "pg_ctl"),
                "-D", str(self.data),
                "-l", str(self.log_dir / "startup.log"),
                "-w", "-t", "60",
                "start",
            ]
        )
        if result.returncode != 0:
            raise LabError(
                f"PostgreSQL did not start: {result.stderr.strip() or result.stdout.strip()} "
                f"(see {self.log_dir / 'startup.log'})"
            )
        wait_for(lambda: port_open(self.ctx.host, self.port), 30, f"PostgreSQL on port {self.port}")
        self.bootstrap()

    def bootstrap(self) -> None:
        """Create the lab role and database (idempotent), with pg_stat_statements."""
        password = self.ctx.secret("postgres").read_text().strip()
        admin = {"host": str(self.run_dir), "port": self.port, "user": "postgres", "database": "postgres"}
        with pg.connection(admin) as conn:
            exists = pg.query_one(conn, "SELECT 1 AS x FROM pg_roles WHERE rolname = %s", (self.user,))
            verb = "ALTER" if exists else "CREATE"
            with conn.cursor() as cur:
                cur.execute(f"{verb} ROLE {self.user} LOGIN SUPERUSER PASSWORD %s", (password,))
            if not pg.query_one(conn, "SELECT 1 AS x FROM pg_database WHERE datname = %s", (self.database,)):
                pg.query(conn, f"CREATE DATABASE {self.database} OWNER {self.user}")
        with pg.connection(dict(admin, database=self.database)) as conn:
            pg.query(conn, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        self.ensure_principals()

    def ensure_principals(self) -> None:
        """Create (or update) the least-privilege roles from the shipped SQL, each with its generated password."""
        admin = {"host": str(self.run_dir), "port": self.port, "user": "postgres", "database": self.database}
        with pg.connection(admin) as conn:
            for name, (role, filename) in PRINCIPALS.items():
                pg.query(conn, collection_path("extensions", "permissions", "postgres", filename).read_text())
                password = self.ctx.secret(f"postgres-{name}").read_text().strip()
                pg.query(conn, sql.SQL("ALTER ROLE {} PASSWORD %s").format(sql.Identifier(role)), (password,))

    def up(self) -> bool:
        """Start unless running; the principals are (re)applied either way (a lab started before them gets them)."""
        started = super().up()
        if not started:
            self.ensure_principals()
        return started

    def stop(self) -> None:
        if not self.running():
            return
        result = self.run_as.run(
            [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop"]
        )
        if result.returncode != 0:
            raise LabError(f"PostgreSQL did not stop: {result.stderr.strip()}")

    def running(self) -> bool:
        return read_pid(self.data / "postmaster.pid") is not None

    # --- reporting -----------------------------------------------------------------
    def connection_params(self) -> dict:
        return {
            "host": self.ctx.host,
            "port": self.port,
            "user": self.user,
            "database": self.database,
            "password": self.ctx.secret("postgres").read_text().strip(),
            "sslmode": "disable",
            "connect_timeout": 3,
        }

    def probe(self) -> str:
        with pg.connection(self.connection_params()) as conn:
            version = pg.query_one(conn, "SHOW server_version")["server_version"]
        return f"PostgreSQL {version}"

    def describe(self) -> dict:
        bindir = self.bindir
        return {
            "host": self.ctx.host,
            "port": self.port,
            "user": self.user,
            "database": self.database,
            "password_file": str(self.ctx.secret("postgres")),
            "principals": {name: {"user": role, "password_file": str(self.ctx.secret(f"postgres-{name}"))}
                           for name, (role, _file) in PRINCIPALS.items()},
            "socket_dir": str(self.run_dir),
            "data_dir": str(self.data),
            "log_dir": str(self.log_dir),
            "run_as": self.run_as.name,
            "bin_dir": str(bindir),
            "tools": {t: str(bindir / t) for t in ("psql", "pg_dump", "pg_restore", "pg_ctl")},
            "dsn": f"postgresql://{self.user}@{self.ctx.host}:{self.port}/{self.database}",
        }
