"""Building blocks shared by the lab's services: paths, processes, waiting."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


def collection_path(*parts: str) -> Path:
    """A file shipped with the collection (``extensions/...``), wherever the package is installed."""
    from ansible_collections.opsbook.runbooks.plugins.module_utils.common import labinfo

    return Path(labinfo.__file__).resolve().parents[3].joinpath(*parts)


class LabError(Exception):
    """A lab operation failed; the message says what to do."""


class MissingTool(LabError):
    """A binary the lab needs is not installed; the message is one line naming the package."""

    def __init__(self, tool: str, install: str):
        super().__init__(f"{tool} not found: install it with `{install}`")
        self.tool = tool
        self.install = install


@dataclass
class Health:
    status: str  # ok / critical / unknown / stopped
    detail: str


@dataclass
class LabContext:
    """What every service needs to know about the lab it belongs to."""

    lab_dir: Path
    cache_dir: Path
    host: str = "127.0.0.1"
    log: callable = field(default=print)
    # names of the lab's services (those asked for and those started before): services whose
    # config depends on others read it (Prometheus probes Docker's backend, alerts to Alertmanager)
    enabled: frozenset = frozenset()

    def service_dir(self, name: str) -> Path:
        return self.lab_dir / name

    @property
    def secrets_dir(self) -> Path:
        return self.lab_dir / "secrets"

    def secret(self, name: str) -> Path:
        """Path of a generated secret, creating it (0600) on first use."""
        self.secrets_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.secrets_dir / f"{name}.password"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(18))
            os.replace(tmp, path)
        return path


def require_tool(name: str, install: str, candidates: tuple[str, ...] = ()) -> str:
    """Absolute path of a binary, or MissingTool with the install line."""
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if not found:
        raise MissingTool(name, install)
    return found


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    """Poll ``predicate`` until it is truthy; LabError naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # the predicate's errors are only reported on timeout
            last_error = exc
        time.sleep(interval)
    suffix = f" (last error: {last_error})" if last_error else ""
    raise LabError(f"timed out after {timeout:.0f}s waiting for {what}{suffix}")


def log_tail(logfile: Path, lines: int = 5) -> str:
    """The last ``lines`` lines of a daemon's log, for an error message ("" when there is no log)."""
    try:
        return "\n".join(logfile.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def wait_running(pidfile: Path, logfile: Path, ready, timeout: float, what: str, name: str, interval: float = 0.25):
    """``wait_for(ready)`` while the process of ``pidfile`` lives.

    When it exits first, LabError with its log's tail at once (an exception raised inside a
    ``wait_for`` predicate is only reported at the timeout).
    """
    value = wait_for(lambda: read_pid(pidfile) is None or ready(), timeout, what, interval=interval)
    if read_pid(pidfile) is None:
        raise LabError(f"{name} exited; see {logfile}:\n{log_tail(logfile)}")
    return value


def read_pid(pidfile: Path) -> int | None:
    try:
        pid = int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if pid_alive(pid) else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (exited child not yet reaped) is not alive; nor is a pid that now names a
    # *thread* of another process (kill(tid, 0) succeeds: a stale pidfile once pointed
    # the lab at another program's thread and etcd was never started again)
    try:
        with open(f"/proc/{pid}/status") as handle:
            status = dict(line.split(":", 1) for line in handle.read().splitlines() if ":" in line)
    except OSError:
        return True
    if status.get("Tgid", "").strip() not in ("", str(pid)):
        return False
    return not status.get("State", "").strip().startswith("Z")


def terminate(pid: int, timeout: float = 20.0) -> None:
    """SIGTERM, wait, then SIGKILL the process group leader ``pid``."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def spawn(cmd: list[str], logfile: Path, pidfile: Path, env: dict | None = None, cwd: Path | None = None) -> int:
    """Start a long-running process detached from us, logging to ``logfile``."""
    logfile.parent.mkdir(parents=True, exist_ok=True)
    with open(logfile, "ab") as log:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
            cwd=cwd,
        )
    write_atomic(pidfile, f"{proc.pid}\n")
    return proc.pid


def write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    """Write ``text`` to a hidden temp file beside ``path`` and rename it into place, ``mode`` whatever the umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "w") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@dataclass
class RunAs:
    """An unprivileged account to run a server as (PostgreSQL refuses root)."""

    name: str
    uid: int
    gid: int
    home: str

    @classmethod
    def for_server(cls, preferred: str, install: str) -> "RunAs":
        if os.getuid() != 0:
            entry = pwd.getpwuid(os.getuid())
        else:
            try:
                entry = pwd.getpwnam(preferred)
            except KeyError:
                raise MissingTool(f"system user '{preferred}'", install) from None
        return cls(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir)

    def run(self, cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
        env = dict(os.environ, HOME=self.home, USER=self.name, LOGNAME=self.name)
        if os.getuid() == 0 and self.uid != 0:
            kwargs.update(user=self.uid, group=self.gid, extra_groups=[])
        return subprocess.run(cmd, env=env, capture_output=True, text=True, **kwargs)

    def own(self, *paths: Path) -> None:
        if os.getuid() == 0:
            for path in paths:
                os.chown(path, self.uid, self.gid)

    def can_reach(self, path: Path) -> bool:
        return self.run(["test", "-x", str(path)]).returncode == 0


class Service:
    """One lab service. Subclasses fill in the hooks."""

    name = "service"

    def __init__(self, ctx: LabContext):
        self.ctx = ctx
        self.dir = ctx.service_dir(self.name)

    # --- hooks -----------------------------------------------------------------
    def check_tools(self) -> None:
        """Raise MissingTool for the first binary that is missing."""

    def prepare(self) -> None:
        """One-time set-up (init data dir, resolve jars); must be idempotent."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def running(self) -> bool:
        raise NotImplementedError

    def probe(self) -> str:
        """Talk to the running service; return a one-line detail or raise."""
        raise NotImplementedError

    def describe(self) -> dict:
        """Endpoint, user, paths: what scripts need to drive this service."""
        raise NotImplementedError

    # --- shared behaviour --------------------------------------------------------
    def health(self) -> Health:
        if not self.running():
            return Health("stopped", "not running")
        try:
            return Health("ok", self.probe())
        except Exception as exc:
            return Health("critical", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)

    def up(self) -> bool:
        """Start unless running; return True when it was started now."""
        self.check_tools()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.prepare()
        if self.running():
            return False
        self.start()
        return True


class PidfileService(Service):
    """A service whose process is the one its ``self.pidfile`` names: stopped with SIGTERM (then SIGKILL)."""

    pidfile: Path

    def stop(self) -> None:
        pid = read_pid(self.pidfile)
        if pid:
            terminate(pid)

    def running(self) -> bool:
        return read_pid(self.pidfile) is not None
