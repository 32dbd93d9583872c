"""A real Docker engine (Debian's docker.io) with locally built images and a compose project.

No registry and no iptables on this machine: ``dockerd`` runs with its own data/exec root,
pidfile and unix socket under the lab dir, ``--iptables=false --ip6tables=false
--bridge=none``; containers use host networking. The lab's image ``lab/busybox:1`` is a
``docker import`` of a root filesystem holding Debian's busybox-static. The compose project
``conectsuite`` (Debian's docker-compose 1.29) runs ``backend`` (busybox httpd serving
``/health`` on the lab's backend port) and ``postgres`` (a stand-in pointing at the lab's
PostgreSQL: its health check opens the lab's PostgreSQL port).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

from .base import LabError, Service, read_pid, require_tool, spawn, terminate, wait_for, wait_running, write_atomic

IMAGE = "lab/busybox:1"
PROJECT = "conectsuite"
INSTALL = "apt-get install -y --no-install-recommends docker.io containerd runc"
BUSYBOX_APPLETS = ("sh", "httpd", "wget", "nc", "sleep", "cat", "echo", "ls", "ps", "env", "kill", "true", "date")


class Docker(Service):
    name = "docker"
    dockerd_candidates = ("/usr/sbin/dockerd",)  # root's PATH may lack /usr/sbin

    def __init__(self, ctx):
        super().__init__(ctx)
        self.backend_port = int(os.environ.get("OPSBOOK_LAB_BACKEND_PORT", 18080))
        self.pg_port = int(os.environ.get("OPSBOOK_LAB_PG_PORT", 15432))
        self.socket = self.dir / "docker.sock"
        self.host_url = f"unix://{self.socket}"
        self.pidfile = self.dir / "dockerd.spawn.pid"
        self.logfile = self.dir / "dockerd.log"
        self.project_dir = self.dir / PROJECT
        self.compose_file = self.project_dir / "docker-compose.yml"

    def check_tools(self) -> None:
        self.dockerd = require_tool("dockerd", INSTALL, candidates=self.dockerd_candidates)
        self.docker = require_tool("docker", INSTALL)
        require_tool("containerd", INSTALL)
        require_tool("runc", INSTALL)
        self.busybox = require_tool("busybox", "apt-get install -y busybox-static")
        self.compose = require_tool("docker-compose", "apt-get install -y docker-compose")

    def env(self) -> dict:
        return dict(os.environ, DOCKER_HOST=self.host_url)

    def cli(self, *args: str, timeout: float = 60, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
        kwargs.setdefault("text", True)
        result = subprocess.run([self.docker, *args], env=self.env(), capture_output=True, timeout=timeout, **kwargs)
        if check and result.returncode != 0:
            err = result.stderr or result.stdout
            err = err if isinstance(err, str) else err.decode(errors="replace")
            raise LabError(f"docker {' '.join(args[:2])} failed: {err.strip()[-400:]}")
        return result

    def compose_cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        result = subprocess.run([self.compose, "-p", PROJECT, "-f", str(self.compose_file), *args],
                                env=self.env(), capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise LabError(f"docker-compose {args[0]} failed: {(result.stderr or result.stdout).strip()[-400:]}")
        return result

    def prepare(self) -> None:
        for sub in ("data", "exec"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        self.project_dir.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.compose_project(), indent=2) + "\n"
        self.compose_changed = not self.compose_file.exists() or self.compose_file.read_text() != text
        if self.compose_changed:
            write_atomic(self.compose_file, text)

    def compose_project(self) -> dict:
        """The conectsuite project (JSON is YAML; compose file format 2.4 for `init`)."""
        port = self.backend_port
        return {
            "version": "2.4",
            "services": {
                "backend": {
                    "image": IMAGE,
                    "network_mode": "host",
                    "init": True,
                    "restart": "unless-stopped",
                    "command": ["httpd", "-f", "-p", f"127.0.0.1:{port}", "-h", "/www"],
                    "labels": {"opsbook.lab": "conectsuite"},
                    "healthcheck": {"test": ["CMD", "wget", "-q", "-O", "/dev/null", f"http://127.0.0.1:{port}/health"],
                                    "interval": "5s", "timeout": "3s", "retries": 3},
                },
                "postgres": {
                    "image": IMAGE,
                    "network_mode": "host",
                    "init": True,
                    "restart": "unless-stopped",
                    "command": ["sleep", "2147483647"],
                    "environment": {"PGHOST": "127.0.0.1", "PGPORT": str(self.pg_port)},
                    "labels": {"opsbook.lab": "conectsuite"},
                    # busybox nc has no -z: a one-byte packet that PostgreSQL rejects at once
                    "healthcheck": {"test": ["CMD-SHELL", f"echo | nc -w 2 127.0.0.1 {self.pg_port}"],
                                    "interval": "15s", "timeout": "3s", "retries": 3},
                },
            },
        }

    def start(self) -> None:
        self.ctx.log(f"docker: starting dockerd on {self.host_url}")
        if self.socket.exists():
            self.socket.unlink()
        # dockerd reuses the containerd its exec root names when that pid answers kill(pid, 0); after
        # a reboot the pid may belong to anything (it once was another program's thread): start afresh
        stale = self.dir / "exec" / "containerd" / "containerd.pid"
        if stale.exists() and read_pid(stale) is None:
            stale.unlink()
        spawn([
            self.dockerd, "--iptables=false", "--ip6tables=false", "--bridge=none",
            f"--data-root={self.dir / 'data'}", f"--exec-root={self.dir / 'exec'}",
            f"--pidfile={self.dir / 'exec' / 'dockerd.pid'}", f"-H={self.host_url}", "--log-level=warn",
        ], self.logfile, self.pidfile)

        def ready():
            return self.socket.exists() and self.cli("version", "--format", "{{.Server.Version}}", timeout=5).stdout
        wait_running(self.pidfile, self.logfile, ready, 60, f"dockerd on {self.host_url}", "dockerd", interval=0.3)
        self.ensure_project()

    def up(self) -> bool:
        started = super().up()
        if not started and (self.compose_changed or not self._backend_answers()):
            self.ensure_project()  # the engine runs but the project is down or changed: bring it up
        return started

    def _backend_answers(self) -> bool:
        try:
            return self.backend_healthy()
        except OSError:
            return False

    def ensure_project(self) -> None:
        """The lab image and the conectsuite project, up and answering (idempotent)."""
        self.ensure_image()
        self.compose_cli("up", "-d", "--remove-orphans")
        wait_for(self.backend_healthy, 60, f"conectsuite backend on 127.0.0.1:{self.backend_port}", interval=0.5)

    def ensure_image(self) -> None:
        if self.cli("image", "inspect", IMAGE, check=False, timeout=10).returncode == 0:
            return
        self.ctx.log(f"docker: building {IMAGE} (docker import of a busybox-static rootfs)")
        with tempfile.TemporaryDirectory(prefix="rootfs-", dir=self.dir) as tmp:
            rootfs = Path(tmp)
            for sub in ("bin", "www", "tmp", "etc"):
                (rootfs / sub).mkdir()
            with open(self.busybox, "rb") as src, open(rootfs / "bin" / "busybox", "wb") as dst:
                dst.write(src.read())
            os.chmod(rootfs / "bin" / "busybox", 0o755)
            for applet in BUSYBOX_APPLETS:
                os.symlink("busybox", rootfs / "bin" / applet)
            (rootfs / "www" / "health").write_text("OK\n")
            (rootfs / "www" / "index.html").write_text("conectsuite backend (opsbook lab)\n")
            (rootfs / "etc" / "passwd").write_text("root:x:0:0:root:/:/bin/sh\n")
            tar = subprocess.run(["tar", "-C", str(rootfs), "-c", "."], capture_output=True, timeout=60, check=True)
            self.cli("import", "-c", 'CMD ["/bin/sh"]', "-c", "ENV PATH=/bin", "-", IMAGE, input=tar.stdout,
                     text=False, timeout=60)

    def backend_healthy(self) -> bool:
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{self.backend_port}/health", timeout=2) as response:
            return response.read().strip() == b"OK"

    def stop(self) -> None:
        pid = read_pid(self.pidfile)
        if pid:
            # live-restore is off: dockerd stops the containers it runs before exiting
            terminate(pid, timeout=60)
        self._unmount_leftovers()

    def _unmount_leftovers(self) -> None:
        """dockerd leaves its exec root's netns bind-mounted; unmount so `lab reset` can delete it."""
        try:
            with open("/proc/self/mounts") as handle:
                points = [line.split()[1] for line in handle]
        except OSError:
            return
        prefix = str(self.dir) + "/"
        for point in sorted((p for p in points if p.startswith(prefix)), reverse=True):
            subprocess.run(["umount", point], capture_output=True, timeout=30)

    def running(self) -> bool:
        return read_pid(self.pidfile) is not None

    def probe(self) -> str:
        version = self.cli("version", "--format", "{{.Server.Version}}", timeout=5).stdout.strip()
        ps = self.cli("ps", "--filter", f"label=com.docker.compose.project={PROJECT}",
                      "--format", "{{.Names}} {{.Status}}", timeout=10).stdout.split("\n")
        rows = [r for r in ps if r.strip()]
        healthy = sum("(healthy)" in r for r in rows)
        return f"Docker engine {version}; {PROJECT}: {healthy}/{len(rows)} containers healthy"

    def describe(self) -> dict:
        return {
            "docker_host": self.host_url,
            "socket": str(self.socket),
            "image": IMAGE,
            "compose_project": PROJECT,
            "compose_file": str(self.compose_file),
            "backend_port": self.backend_port,
            "backend_url": f"http://127.0.0.1:{self.backend_port}/health",
            "log": str(self.logfile),
        }
