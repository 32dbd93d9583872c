"""Redis from Debian's package; an ACL user with a password beside the default user."""

from __future__ import annotations

import os
import subprocess

from ansible_collections.opsbook.runbooks.plugins.module_utils.redis import common as redis_common

from .base import LabError, PidfileService, collection_path, port_open, require_tool, wait_for, write_atomic

INSTALL = "apt-get install -y redis-server"
# Least-privilege ACL users (docs/permissions.md): name in lab.json -> user in extensions/permissions/redis/opsbook.acl
PRINCIPALS = {"monitor": "opsbook-monitor", "remediate": "opsbook-remediate"}


def shipped_acl_rules() -> dict[str, list[str]]:
    """``{user: [rule, ...]}`` of the collection's ACL file, without a password (``on`` first)."""
    rules = {}
    for line in collection_path("extensions", "permissions", "redis", "opsbook.acl").read_text().splitlines():
        words = line.split()
        if len(words) > 2 and words[0] == "user":
            rules[words[1]] = words[2:]
    return rules


class Redis(PidfileService):
    name = "redis"
    port = 16379
    user = "opsbook"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.port = int(os.environ.get("OPSBOOK_LAB_REDIS_PORT", self.port))
        self.conf = self.dir / "redis.conf"
        self.pidfile = self.dir / "redis.pid"
        self.data = self.dir / "data"

    def check_tools(self) -> None:
        self.server = require_tool("redis-server", INSTALL)
        self.cli = require_tool("redis-cli", INSTALL)

    def prepare(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        password = self.ctx.secret("redis").read_text().strip()
        write_atomic(
            self.conf,
            "# opsbook lab\n"
            f"bind {self.ctx.host}\n"
            f"port {self.port}\n"
            "daemonize yes\n"
            f"pidfile {self.pidfile}\n"
            f"logfile {self.dir / 'redis.log'}\n"
            f"dir {self.data}\n"
            "save 900 1\n"
            "appendonly no\n"
            "latency-monitor-threshold 100\n"
            "user default on nopass ~* &* +@all\n"
            f"user {self.user} on >{password} ~* &* +@all\n"
            + "".join(f"user {user} {' '.join(self.principal_rules(name))}\n" for name, user in PRINCIPALS.items()),
            mode=0o600,
        )

    def principal_rules(self, name: str) -> list[str]:
        """The shipped ACL rules of principal ``name`` with its generated password (``>password`` after ``on``)."""
        rules = shipped_acl_rules()[PRINCIPALS[name]]
        return ["on", ">" + self.ctx.secret(f"redis-{name}").read_text().strip()] + [r for r in rules if r != "on"]

    def ensure_principals(self) -> None:
        """ACL SETUSER each principal on the running server (a lab started before them gets them)."""
        client = redis_common.connect({"host": self.ctx.host, "port": self.port, "connect_timeout": 3.0,
                                       "socket_timeout": 5.0})
        try:
            for name, user in PRINCIPALS.items():
                client.execute_command("ACL", "SETUSER", user, "reset", *self.principal_rules(name))
        finally:
            client.close()

    def up(self) -> bool:
        started = super().up()
        self.ensure_principals()
        return started

    def start(self) -> None:
        self.ctx.log(f"redis: starting on {self.ctx.host}:{self.port}")
        result = subprocess.run([self.server, str(self.conf)], capture_output=True, text=True)
        if result.returncode != 0:
            raise LabError(f"redis-server did not start: {result.stderr.strip() or result.stdout.strip()}")
        wait_for(lambda: port_open(self.ctx.host, self.port), 20, f"Redis on port {self.port}")

    def connection_params(self) -> dict:
        return {
            "host": self.ctx.host,
            "port": self.port,
            "db": 0,
            "username": self.user,
            "password": self.ctx.secret("redis").read_text().strip(),
            "connect_timeout": 3.0,
            "socket_timeout": 5.0,
        }

    def probe(self) -> str:
        client = redis_common.connect(self.connection_params())
        try:
            version = client.info("server")["redis_version"]
        finally:
            client.close()
        return f"Redis {version}"

    def describe(self) -> dict:
        return {
            "host": self.ctx.host,
            "port": self.port,
            "db": 0,
            "user": self.user,
            "password_file": str(self.ctx.secret("redis")),
            "principals": {name: {"user": user, "password_file": str(self.ctx.secret(f"redis-{name}"))}
                           for name, user in PRINCIPALS.items()},
            "url": f"redis://{self.user}@{self.ctx.host}:{self.port}/0",
            "data_dir": str(self.data),
            "config": str(self.conf),
            "tools": {"redis-cli": self.cli, "redis-server": self.server},
        }
