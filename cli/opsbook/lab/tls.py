"""TLS endpoints on loopback with certificates from the lab's own CA (``opsbook lab up --with tls``).

The CA (``tls/ca.pem``, key ``tls/ca.key`` 0600) is made once per lab directory; at every start the
server certificates are issued afresh and one process (``python -m opsbook.lab.tlsserver``) serves
each on a port of its own, from ``OPSBOOK_LAB_TLS_PORT`` (18443) up:

======== ============ ===========================================================
port     case         certificate
======== ============ ===========================================================
+0       valid        localhost / 127.0.0.1 from the lab CA, 365 days (and HSTS)
+1       expiring     the same names, expires 10 days after the start
+2       expired      expired 5 days before the start
+3       wrong_host   the lab CA, but for wrong-host.opsbook.invalid only
+4       self_signed  localhost / 127.0.0.1, signed by its own key
+5       smtp         ESMTP with STARTTLS, the valid certificate
======== ============ ===========================================================

``describe()`` gives ``endpoints`` in the tls_certificate module's shape (the lab inventory passes
them through as ``opsbook_tls.endpoints``) and ``ca_file``.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import sys

from . import tlsca
from .base import LabError, Service, port_open, read_pid, spawn, terminate, wait_running, write_atomic

SERVER_NAME = "localhost"
NAMES = [SERVER_NAME, "127.0.0.1"]
WRONG_HOST = "wrong-host.opsbook.invalid"
# case: (kind, signed by the lab CA?, names, days valid from the start (negative: expired), days before the start)
CASES = {
    "valid": ("https", True, NAMES, 365, 1),
    "expiring": ("https", True, NAMES, 10, 1),
    "expired": ("https", True, NAMES, -5, 30),
    "wrong_host": ("https", True, [WRONG_HOST], 365, 1),
    "self_signed": ("https", False, NAMES, 365, 1),
    "smtp": ("smtp", True, NAMES, 365, 1),
}


class Tls(Service):
    name = "tls"
    port = 18443

    def __init__(self, ctx):
        super().__init__(ctx)
        self.port = int(os.environ.get("OPSBOOK_LAB_TLS_PORT", self.port))
        self.ports = {case: self.port + offset for offset, case in enumerate(CASES)}
        self.ca_file = self.dir / "ca.pem"
        self.conf = self.dir / "servers.json"
        self.pidfile = self.dir / "tlsserver.pid"
        self.logfile = self.dir / "tlsserver.log"

    def prepare(self) -> None:
        os.chmod(self.dir, 0o700)
        tlsca.load_or_make_ca(self.dir)

    def issue_all(self) -> list[dict]:
        """Issue every case's certificate (from now), write the server config; its ``servers``."""
        ca = tlsca.load_or_make_ca(self.dir)
        start = tlsca.now()
        servers = []
        for case, (kind, signed, names, days, before) in CASES.items():
            key, cert = tlsca.issue(names, start - before * tlsca.DAY, start + days * tlsca.DAY, ca=ca if signed else None)
            key_path, cert_path = tlsca.write_pair(self.dir, case, key, cert)
            servers.append({"name": case, "kind": kind, "port": self.ports[case], "cert": str(cert_path),
                            "key": str(key_path), "hsts": case == "valid"})
        write_atomic(self.conf, json.dumps({"servers": servers}, indent=2) + "\n")
        return servers

    def start(self) -> None:
        taken = [p for p in self.ports.values() if port_open(self.ctx.host, p)]
        if taken:
            raise LabError(f"ports {', '.join(map(str, taken))} on {self.ctx.host} are taken by another process: "
                           f"choose another base port with OPSBOOK_LAB_TLS_PORT")
        self.issue_all()
        self.ctx.log(f"tls: serving {len(CASES)} endpoints on {self.ctx.host}:{self.port}-{self.port + len(CASES) - 1}")
        spawn([sys.executable, "-m", "opsbook.lab.tlsserver", "--config", str(self.conf), "--host", self.ctx.host],
              self.logfile, self.pidfile)
        wait_running(self.pidfile, self.logfile, self.ready, 20, f"the lab TLS endpoints on {self.ctx.host}", "tlsserver")

    def ready(self) -> bool:
        return all(port_open(self.ctx.host, p) for p in self.ports.values())

    def stop(self) -> None:
        pid = read_pid(self.pidfile)
        if pid:
            terminate(pid, timeout=10)

    def running(self) -> bool:
        return read_pid(self.pidfile) is not None

    def probe(self) -> str:
        """A verified handshake with the valid endpoint; every port open."""
        closed = [case for case, p in self.ports.items() if not port_open(self.ctx.host, p)]
        if closed:
            raise LabError(f"endpoints not listening: {', '.join(closed)}")
        ctx = ssl.create_default_context(cafile=str(self.ca_file))
        with socket.create_connection((self.ctx.host, self.ports["valid"]), timeout=3) as sock:
            with ctx.wrap_socket(sock, server_hostname=SERVER_NAME) as tls:
                version = tls.version()
        return f"{len(CASES)} endpoints from the lab CA on ports {self.port}-{self.port + len(CASES) - 1} ({version})"

    def endpoints(self) -> list[dict]:
        result = []
        for case, port in self.ports.items():
            endpoint = {"name": f"lab-tls-{case.replace('_', '-')}", "host": self.ctx.host, "port": port,
                        "server_name": SERVER_NAME}
            if CASES[case][0] == "smtp":
                endpoint["starttls"] = "smtp"
            result.append(endpoint)
        return result

    def describe(self) -> dict:
        return {
            "host": self.ctx.host,
            "port": self.port,
            "ports": dict(self.ports),
            "server_name": SERVER_NAME,
            "ca_file": str(self.ca_file),
            "endpoints": self.endpoints(),
            "cases": {case: {"port": self.ports[case], "days": days, "signed_by_ca": signed, "names": names}
                      for case, (_kind, signed, names, days, _before) in CASES.items()},
            "config": str(self.conf),
            "log": str(self.logfile),
        }
