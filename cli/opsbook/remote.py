"""Run a scenario on another node: ``ansible-runner transmit | ssh NODE ansible-runner worker | process``.

The controller packs the job (playbook by FQCN, inventories, variables, environment) with
``ansible_runner.interface.run(streamer='transmit')``, pipes the stream over OpenSSH to
``ansible-runner worker`` on the node (the stream AWX's receptor carries), and feeds the worker's
output to ``streamer='process'`` here, so the run's events reach the same event handler as a local
run and the report and history are the same. The node needs ansible-runner, ansible-core and the
opsbook collection (``pip install opsbook`` in a venv, or the execution environment).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import OpsbookError, scrub

# The environment that is the controller's own, never the node's: the node's login gives its own.
CONTROLLER_ONLY_ENV = ("HOME", "USER", "LOGNAME", "TMPDIR", "SSH_AUTH_SOCK", "PATH")


class NodeError(OpsbookError):
    """The node cannot run the job (unreachable, login refused, no ansible-runner); one line, no secrets."""


@dataclass
class Node:
    """An execution node reached over ssh as ``user@host:port`` with a private key."""

    user: str
    host: str
    port: int = 22
    key_file: Path | None = None
    known_hosts: Path | None = None
    runner: str = "ansible-runner"  # the node's ansible-runner (absolute, or on the login's PATH)
    connect_timeout: int = 10

    @property
    def label(self) -> str:
        return f"{self.user}@{self.host}:{self.port}"

    @classmethod
    def parse(cls, spec: str, key_file=None, known_hosts=None, runner=None) -> "Node":
        """``user@host[:port]``; ValueError with the expected form otherwise."""
        user, sep, rest = spec.partition("@")
        host, _, port = rest.partition(":")
        if not sep or not user or not host or (port and not port.isdigit()):
            raise ValueError(f"{spec!r}: expected USER@HOST[:PORT] or 'lab'")
        return cls(user, host, int(port or 22), Path(key_file) if key_file else None,
                   Path(known_hosts) if known_hosts else None, runner or "ansible-runner")

    @classmethod
    def from_lab(cls, ssh: dict) -> "Node":
        """The lab's execution node (``opsbook lab up --with ssh``) from its ``lab.json`` entry."""
        return cls(ssh["user"], ssh["host"], int(ssh["port"]), Path(ssh["key_file"]), Path(ssh["known_hosts"]),
                   ssh["runner"])

    def bin_dir(self) -> str | None:
        """Where the node's ansible-playbook is: beside an absolute ansible-runner."""
        return os.path.dirname(self.runner) if os.path.isabs(self.runner) else None

    def ssh_command(self, remote: list[str]) -> list[str]:
        cmd = ["ssh", "-p", str(self.port), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
               "-o", f"ConnectTimeout={self.connect_timeout}", "-o", "ServerAliveInterval=15",
               "-o", "ServerAliveCountMax=4", "-o", "LogLevel=ERROR", "-T"]
        if self.key_file:
            cmd += ["-i", str(self.key_file), "-o", "IdentitiesOnly=yes"]
        if self.known_hosts:
            cmd += ["-o", f"UserKnownHostsFile={self.known_hosts}"]
        return cmd + [f"{self.user}@{self.host}", "--", " ".join(shlex.quote(a) for a in remote)]


def node_error(node: Node, rc: int | None, stderr: str) -> NodeError:
    """One line saying why the node did not run the job (from ssh's exit code and message)."""
    lines = [scrub(line.strip()) for line in (stderr or "").splitlines() if line.strip()]
    last = lines[-1] if lines else f"exit {rc}"
    low = (stderr or "").lower()
    if rc == 255:  # ssh's own failures; anything else is the remote command's exit
        if "permission denied" in low:
            return NodeError(f"node {node.label} refused the login (publickey): is the key "
                             f"{node.key_file or '(ssh default)'} in {node.user}'s authorized_keys?")
        if "host key verification failed" in low or "host identification has changed" in low:
            return NodeError(f"node {node.label}: host key not trusted "
                             f"({node.known_hosts or '~/.ssh/known_hosts'}): {last}")
        return NodeError(f"node {node.label} unreachable: {last}")
    if rc == 127 or "not found" in low or "no such file" in low:
        return NodeError(f"node {node.label} has no ansible-runner at {node.runner!r}: install opsbook there "
                         f"(pip install opsbook) or pass --node-runner")
    if rc == 126:
        return NodeError(f"node {node.label}: {node.user} cannot run {node.runner!r}: {last}")
    return NodeError(f"node {node.label}: {last}")


def worker_info(node: Node, timeout: float = 30) -> dict:
    """``ansible-runner worker --worker-info`` on the node (version, cpus, memory); NodeError when it cannot."""
    try:
        proc = subprocess.run(node.ssh_command([node.runner, "worker", "--worker-info"]), capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise NodeError(f"node {node.label} did not answer within {timeout:.0f}s") from None
    except OSError as exc:
        raise NodeError(f"cannot run ssh: {exc.strerror}") from None
    if proc.returncode != 0:
        raise node_error(node, proc.returncode, proc.stderr)
    try:
        info = yaml.safe_load(proc.stdout)
    except yaml.YAMLError:
        info = None
    if not isinstance(info, dict) or "runner_version" not in info:
        raise NodeError(f"node {node.label}: {node.runner} worker --worker-info gave no answer")
    return info


def stage_inventories(private: Path, inventories: list[Path], worker_dir: str) -> list[str]:
    """Copy the inventories into the job's private dir (streamed to the node); their paths there."""
    import shutil

    args = []
    for index, source in enumerate(inventories):
        target = private / "inventories" / f"{index}-{source.name}"
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            target.mkdir(parents=True)
            target = target / source.name
            shutil.copy2(source, target)
        args += ["-i", f"{worker_dir}/{target.relative_to(private)}"]
    return args


def node_env(env: dict, node: Node) -> dict:
    """The run's allow-listed environment for the node: its own HOME/USER, its ansible first on PATH."""
    env = {k: v for k, v in env.items() if k not in CONTROLLER_ONLY_ENV}
    path = "/usr/local/bin:/usr/bin:/bin"
    env["PATH"] = f"{node.bin_dir()}:{path}" if node.bin_dir() else path
    return env


def _drain(stream, sink: list, limit: int = 65536) -> None:
    size = 0
    for chunk in iter(lambda: stream.read(4096), b""):
        if size < limit:
            sink.append(chunk)
            size += len(chunk)


def run_remote(node: Node, private: Path, artifacts: Path, kwargs: dict, event_handler, worker_dir: str,
               timeout: int | None = None, cancel=lambda: False) -> tuple[str, int | None, str]:
    """The job of ``kwargs`` (ansible_runner.run's) run on ``node``: ``(status, rc, explanation)``.

    Events reach ``event_handler`` as they come; artifacts land in ``artifacts/<ident>``.
    NodeError when the node never ran the job (unreachable, refused, no ansible-runner).
    """
    import ansible_runner

    worker_info(node, timeout=node.connect_timeout + 20)
    cmd = node.ssh_command([node.runner, "worker", f"--private-data-dir={worker_dir}", "--delete"])
    # the job stream (it holds the variables): an unlinked 0600 file, ssh's stdin
    with tempfile.TemporaryFile() as stream:
        ansible_runner.interface.run(streamer="transmit", _output=stream, private_data_dir=str(private), **kwargs)
        stream.seek(0)
        try:
            proc = subprocess.Popen(cmd, stdin=stream, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    start_new_session=True)  # Ctrl-C reaches us, and we stop ssh ourselves
        except OSError as exc:
            raise NodeError(f"cannot run ssh: {exc.strerror}") from None
    stderr: list[bytes] = []
    threads = [threading.Thread(target=_drain, args=(proc.stderr, stderr), daemon=True)]
    stopped: list[str] = []
    done = threading.Event()

    def watchdog():
        deadline = time.monotonic() + timeout if timeout else None
        while not done.wait(0.2):
            reason = "canceled" if cancel() else "timeout" if deadline and time.monotonic() > deadline else None
            if reason:
                stopped.append(reason)
                proc.terminate()  # ssh closes the session; the worker's ansible-playbook loses its stream
                return

    threads.append(threading.Thread(target=watchdog, daemon=True))
    for thread in threads:
        thread.start()
    seen = []
    statuses: list[dict] = []

    def on_event(event):
        seen.append(1)
        return event_handler(event)

    ident = uuid.uuid4().hex
    try:
        processor = ansible_runner.interface.run(
            streamer="process", _input=proc.stdout, private_data_dir=str(private), ident=ident,
            artifact_dir=str(artifacts / ident), event_handler=on_event, quiet=True,
            status_handler=lambda data, runner_config=None: statuses.append(data), cancel_callback=lambda: False)
    finally:
        done.set()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for thread in threads:
            thread.join(timeout=5)
    if stopped:
        return stopped[0], None, ""
    err = b"".join(stderr).decode(errors="replace")
    if not seen and processor.status == "error":
        raise node_error(node, proc.returncode, err)
    rc = None
    with_rc = artifacts / ident / "rc"
    if with_rc.exists():
        try:
            rc = int(with_rc.read_text().strip())
        except ValueError:
            rc = None
    explanation = next((s.get("job_explanation") for s in reversed(statuses) if s.get("job_explanation")), "")
    return processor.status, rc, scrub(explanation or err.strip()[-2000:])
