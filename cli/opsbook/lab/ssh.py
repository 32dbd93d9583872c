"""An execution node on loopback: OpenSSH's sshd (Debian's openssh-server) for one unprivileged user.

``opsbook run SCENARIO --node lab`` carries the run to it with ``ansible-runner transmit | ssh
worker | process``. Key-only authentication (no passwords, no root), its own host key,
authorized_keys, known_hosts and client key under ``<lab>/ssh``. The node runs the controller's
venv (read-only) as the node user; the lab lets that user read the lab's state and secrets (the
group of ``<lab>/secrets``), as a real node holds the credentials of the inventories it runs.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

from .base import LabError, MissingTool, PidfileService, port_open, require_tool, spawn, \
    wait_running, write_atomic

INSTALL = "apt-get install -y openssh-server"
NODE_USER = "opsbook-node"


def _run(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise LabError(f"{cmd[0]} failed: {(result.stderr or result.stdout).strip().splitlines()[-1:]}")


class Ssh(PidfileService):
    name = "ssh"
    port = 12222

    def __init__(self, ctx):
        super().__init__(ctx)
        self.port = int(os.environ.get("OPSBOOK_LAB_SSH_PORT", self.port))
        self.user = os.environ.get("OPSBOOK_LAB_SSH_USER", NODE_USER)
        self.conf = self.dir / "sshd_config"
        self.pidfile = self.dir / "sshd.pid"
        self.logfile = self.dir / "sshd.log"
        self.host_key = self.dir / "ssh_host_ed25519_key"
        self.client_key = self.dir / "client" / "id_ed25519"
        self.known_hosts = self.dir / "client" / "known_hosts"
        self.authorized = self.dir / "authorized_keys"
        self.home = self.dir / "home"
        # the node's Python: Debian's interpreter on the controller venv's packages (read-only; the venv's
        # own interpreter may sit where the node user cannot go, e.g. pyenv under /root)
        self.runtime = self.dir / "node-python"
        self.runner = str(self.runtime / "bin" / "ansible-runner")

    def check_tools(self) -> None:
        self.sshd = require_tool("sshd", INSTALL, ("/usr/sbin/sshd",))
        self.keygen = require_tool("ssh-keygen", "apt-get install -y openssh-client")
        require_tool("ssh", "apt-get install -y openssh-client")
        if os.getuid() != 0:
            raise MissingTool("root (sshd must switch to the node user)", "run `opsbook lab up --with ssh` as root")

    def _ensure_user(self) -> pwd.struct_passwd:
        try:
            return pwd.getpwnam(self.user)
        except KeyError:
            pass
        self.ctx.log(f"ssh: creating the node user {self.user}")
        _run(["useradd", "--system", "--user-group", "--home-dir", str(self.home), "--no-create-home",
              "--shell", "/bin/sh", self.user])
        # '*': no password can log in; not '!' (a locked account, which sshd refuses even for keys)
        _run(["usermod", "--password", "*", self.user])
        return pwd.getpwnam(self.user)

    def prepare(self) -> None:
        entry = self._ensure_user()
        self.home.mkdir(mode=0o750, exist_ok=True)
        os.chown(self.home, entry.pw_uid, entry.pw_gid)
        self.client_key.parent.mkdir(mode=0o700, exist_ok=True)
        for key in (self.host_key, self.client_key):
            if not key.exists():
                _run([self.keygen, "-q", "-t", "ed25519", "-N", "", "-C", f"opsbook-lab-{key.parent.name}",
                      "-f", str(key)])
        public = self.client_key.with_name("id_ed25519.pub").read_text().strip()
        self.authorized.mkdir(mode=0o755, exist_ok=True)
        write_atomic(self.authorized / self.user, public + "\n")
        host_public = self.host_key.with_name(self.host_key.name + ".pub").read_text().split()
        write_atomic(self.known_hosts, f"[{self.ctx.host}]:{self.port} {host_public[0]} {host_public[1]}\n")
        self._share_lab_state(entry.pw_gid)
        self._node_runtime()
        write_atomic(
            self.conf,
            "# opsbook lab execution node\n"
            f"Port {self.port}\n"
            f"ListenAddress {self.ctx.host}\n"
            f"HostKey {self.host_key}\n"
            f"PidFile {self.pidfile}\n"
            f"AuthorizedKeysFile {self.authorized}/%u\n"
            f"AllowUsers {self.user}\n"
            "AuthenticationMethods publickey\n"
            "PubkeyAuthentication yes\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "PermitRootLogin no\n"
            # the keys live under the lab dir in /var/tmp (mode 1777), which StrictModes refuses; the lab
            # itself keeps them root-owned and not writable by others
            "StrictModes no\n"
            "UsePAM no\n"
            "PermitTTY no\n"
            "X11Forwarding no\n"
            "AllowTcpForwarding no\n"
            "AllowAgentForwarding no\n"
            "LogLevel INFO\n",
            mode=0o600,
        )

    def _node_runtime(self) -> None:
        """``<lab>/ssh/node-python``: a venv of Debian's python3.X whose site-packages chain to this venv's
        (a ``.pth``), with the entry points the worker runs. A real node instead has opsbook installed."""
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        python = require_tool(f"python{version}", f"apt-get install -y python{version}", (f"/usr/bin/python{version}",))
        bindir = self.runtime / "bin"
        site = self.runtime / "lib" / f"python{version}" / "site-packages"
        site.mkdir(parents=True, exist_ok=True)
        bindir.mkdir(exist_ok=True)
        write_atomic(self.runtime / "pyvenv.cfg",
                     f"home = {Path(python).parent}\ninclude-system-site-packages = false\nversion = {version}\n")
        link = bindir / f"python{version}"
        if not link.is_symlink():
            link.symlink_to(python)
        controller_site = sysconfig.get_paths()["purelib"]
        write_atomic(site / "opsbook-controller.pth", f"import site; site.addsitedir({controller_site!r})\n")
        self._complete_runtime(link)
        for script in ("ansible-runner", "ansible-playbook", "ansible", "ansible-galaxy", "ansible-config",
                       "ansible-inventory"):
            source = Path(sys.executable).parent / script
            if source.exists():
                body = source.read_text().split("\n", 1)[1]
                write_atomic(bindir / script, f"#!{link}\n{body}", mode=0o755)

    def _complete_runtime(self, python: Path) -> None:
        """Install (pip, once) what the node's interpreter needs beyond the controller's packages: an older
        patch release can need more (redis-py wants async-timeout below Python 3.11.3)."""
        marker = self.runtime / ".complete"
        if marker.exists():
            return
        pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--python", str(python)]
        check = subprocess.run(pip + ["check"], capture_output=True, text=True, timeout=120)
        missing = sorted(set(re.findall(r" requires ([A-Za-z0-9_.-]+), which is not installed", check.stdout)))
        if missing:
            self.ctx.log(f"ssh: installing {', '.join(missing)} for the node's Python")
            _run(pip + ["install", "-q", *missing])
        write_atomic(marker, "\n".join(missing) + "\n")

    def _share_lab_state(self, gid: int) -> None:
        """The node user may read the lab's secrets (group read), as the lab inventory's lookup needs."""
        secrets = self.ctx.secrets_dir
        secrets.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chown(secrets, 0, gid)
        os.chmod(secrets, 0o750)
        for path in secrets.glob("*.password"):
            os.chown(path, 0, gid)
            os.chmod(path, 0o640)

    def start(self) -> None:
        self.ctx.log(f"ssh: starting sshd on {self.ctx.host}:{self.port} for {self.user}")
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
        check = subprocess.run([self.sshd, "-t", "-f", str(self.conf)], capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise LabError(f"sshd refused {self.conf}: {check.stderr.strip()}")
        spawn([self.sshd, "-D", "-f", str(self.conf), "-E", str(self.logfile)], self.dir / "sshd.out", self.pidfile)
        wait_running(self.pidfile, self.logfile, lambda: port_open(self.ctx.host, self.port), 20,
                     f"sshd on port {self.port}", "sshd")

    def probe(self) -> str:
        """Log in with the lab's key and ask the node's ansible-runner who it is."""
        from opsbook.remote import Node, worker_info

        info = worker_info(Node.from_lab(self.describe()), timeout=15)
        return f"OpenSSH node {self.user}@{self.ctx.host}:{self.port}, ansible-runner {info.get('runner_version')}"

    def describe(self) -> dict:
        try:
            group = grp.getgrgid(pwd.getpwnam(self.user).pw_gid).gr_name
        except KeyError:
            group = None
        return {
            "host": self.ctx.host,
            "port": self.port,
            "user": self.user,
            "group": group,
            "key_file": str(self.client_key),
            "known_hosts": str(self.known_hosts),
            "runner": self.runner,
            "config": str(self.conf),
            "log": str(self.logfile),
        }
