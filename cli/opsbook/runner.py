"""Run a scenario playbook through ansible-runner and collect findings from its events."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ansible_collections.opsbook.runbooks.plugins.module_utils.errors import scrub
from ansible_collections.opsbook.runbooks.plugins.module_utils.findings import (
    CRITICAL,
    make_finding,
    overall,
)

REPORT_SCHEMA = "opsbook.report/v1"
# Environment passed through to Ansible; everything else is dropped.
ENV_ALLOW = (
    "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SSH_AUTH_SOCK",
    "OPSBOOK_LAB_DIR", "OPSBOOK_CACHE_DIR", "KUBECONFIG", "DOCKER_HOST",
    "ANSIBLE_CONFIG", "ANSIBLE_VAULT_PASSWORD_FILE", "ANSIBLE_COLLECTIONS_PATH",
    "http_proxy", "https_proxy", "no_proxy",
)


@dataclass
class RunResult:
    scenario: str
    inventory: list[str]
    check: bool
    remediate: bool
    started: float
    finished: float = 0.0
    runner_status: str = ""
    rc: int | None = None
    findings: list[dict] = field(default_factory=list)
    actions: list[dict] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    hosts: set = field(default_factory=set)
    unreachable: set = field(default_factory=set)

    @property
    def status(self) -> str:
        return overall(self.findings)

    @property
    def failed(self) -> bool:
        """The run itself failed: a task failed, a timeout, or Ansible stopped for another reason.

        Unreachable hosts are not run failures: each is a critical finding of its own.
        """
        if self.failures:
            return True
        return self.runner_status != "successful" and not (self.runner_status == "failed" and self.unreachable)

    def as_dict(self) -> dict:
        return {
            "schema": REPORT_SCHEMA,
            "scenario": self.scenario,
            "inventory": self.inventory,
            "check": self.check,
            "remediate": self.remediate,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "duration": round(self.finished - self.started, 2),
            "status": self.status,
            "run": {"status": self.runner_status, "rc": self.rc, "failed": self.failed},
            "hosts": sorted(self.hosts),
            "findings": self.findings,
            "actions": self.actions,
            "failures": self.failures,
        }


class EventCollector:
    """ansible-runner event handler: progress lines and findings/actions from task results."""

    def __init__(self, result: RunResult, progress=None):
        self.result = result
        self.progress = progress or (lambda text: None)

    def __call__(self, event: dict) -> bool:
        kind = event.get("event")
        data = event.get("event_data") or {}
        host = data.get("host")
        if kind == "playbook_on_task_start":
            self.progress(f"  - {data.get('task')}")
        elif kind == "runner_on_ok":
            self._collect(host, data)
        elif kind == "runner_on_failed" and not data.get("ignore_errors"):
            res = data.get("res") or {}
            self.result.hosts.add(host)
            self.result.failures.append(
                {"host": host, "task": data.get("task"), "message": scrub(res.get("msg") or "task failed")}
            )
            self.progress(f"    FAILED on {host}: {scrub(res.get('msg') or '')}")
        elif kind == "runner_on_unreachable":
            res = data.get("res") or {}
            self.result.hosts.add(host)
            self.result.unreachable.add(host)
            self.result.findings.append(
                make_finding("ansible_host_reachable", CRITICAL,
                             f"host unreachable: {scrub(res.get('msg') or '')}".strip(), target=host)
            )
            self.progress(f"    UNREACHABLE {host}")
        return True  # keep every event in the artifacts

    def _collect(self, host: str, data: dict) -> None:
        res = data.get("res") or {}
        self.result.hosts.add(host)
        items = [res] + list(res.get("results") or [])  # loops report per item
        for item in items:
            if not isinstance(item, dict):
                continue
            for finding in item.get("findings") or []:
                if isinstance(finding, dict) and "status" in finding:
                    self.result.findings.append(dict(finding, host=host))
            for action in item.get("actions") or []:
                if isinstance(action, dict):
                    self.result.actions.append(dict(action, host=host))


def runner_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k in ENV_ALLOW}
    # the venv's bin first, or ansible-runner cannot find ansible-playbook
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bindir, os.environ.get("PATH", "/usr/bin:/bin")])
    env.update(
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_HOST_KEY_CHECKING=os.environ.get("ANSIBLE_HOST_KEY_CHECKING", "True"),
        ANSIBLE_PYTHON_INTERPRETER=os.environ.get("ANSIBLE_PYTHON_INTERPRETER", "auto_silent"),
    )
    return env


def run_playbook(
    scenario: str,
    playbook: Path,
    inventories: list[Path],
    extravars: dict,
    check: bool = False,
    remediate: bool = False,
    confirm: tuple[str, ...] | list[str] = (),
    confirm_all: bool = False,
    limit: str | None = None,
    verbosity: int = 0,
    timeout: int | None = None,
    artifacts_dir: Path | None = None,
    progress=None,
) -> RunResult:
    import ansible_runner

    result = RunResult(scenario, [str(i) for i in inventories], check, remediate, started=time.time())
    private = Path(tempfile.mkdtemp(prefix="opsbook-run-"))
    artifacts = Path(artifacts_dir) if artifacts_dir else private / "artifacts"
    cmdline = ["--check"] if check else []
    if check:
        cmdline.append("--diff")
    interrupted = []

    def on_sigint(signum, frame):  # first Ctrl-C cancels Ansible cleanly; the run reports it
        interrupted.append(signum)
        if progress:
            progress("  interrupted: cancelling the run ...")

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        os.chmod(private, 0o700)
        runner = ansible_runner.run(
            private_data_dir=str(private),
            artifact_dir=str(artifacts),
            rotate_artifacts=10,
            playbook=str(playbook),
            inventory=[str(i) for i in inventories],
            extravars=dict(extravars, opsbook_remediate=remediate, opsbook_scenario=scenario,
                           opsbook_confirm=list(confirm), opsbook_confirm_all=bool(confirm_all)),
            cmdline=" ".join(cmdline) or None,
            limit=limit,
            verbosity=verbosity or None,
            envvars=runner_env(),
            event_handler=EventCollector(result, progress),
            quiet=True,
            timeout=timeout,
            settings={"suppress_ansible_output": True},
            cancel_callback=lambda: bool(interrupted),
        )
        result.runner_status = runner.status
        result.rc = runner.rc
        if runner.status == "canceled":
            result.failures.append({"host": None, "task": None, "message": "cancelled by the user (Ctrl-C)"})
        elif runner.status == "timeout":
            result.failures.append({"host": None, "task": None, "message": f"the run exceeded {timeout}s"})
        elif result.failed and not result.failures:
            tail = scrub((runner.stdout.read() if runner.stdout else "").strip()[-2000:])
            result.failures.append({"host": None, "task": None, "message": tail or f"ansible rc {runner.rc}"})
    finally:
        signal.signal(signal.SIGINT, previous)
        result.finished = time.time()
        shutil.rmtree(private, ignore_errors=True)  # holds extravars; artifacts kept only if asked
    return result
