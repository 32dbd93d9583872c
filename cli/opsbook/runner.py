"""Run a scenario playbook through ansible-runner and collect findings from its events."""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import re
import shlex
import shutil
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import scrub
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    CRITICAL,
    make_finding,
)
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.outcome import (
    EXIT_RUN_FAILED,
    INTERRUPTED,
    PhaseTracker,
    interrupted_exit_code,
    run_outcome,
)

REPORT_SCHEMA = "opsbook.report/v2"
# Environment passed through to Ansible; everything else is dropped (really: ansible-runner
# copies os.environ, so the run happens inside `isolated_environment`).
ENV_ALLOW = (
    "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SSH_AUTH_SOCK",
    "OPSBOOK_LAB_DIR", "OPSBOOK_CACHE_DIR", "OPSBOOK_STATE_DIR", "XDG_STATE_HOME", "KUBECONFIG", "DOCKER_HOST",
    "ANSIBLE_CONFIG", "ANSIBLE_VAULT_PASSWORD_FILE", "ANSIBLE_VAULT_IDENTITY_LIST", "ANSIBLE_COLLECTIONS_PATH",
    "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT",
    "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
)
# ...and every variable with one of these prefixes (kubernetes.core's connection variables).
ENV_ALLOW_PREFIXES = ("K8S_AUTH_",)
# The signals that interrupt a run: Ansible is cancelled, the partial report recorded, exit 128 + signal.
INTERRUPT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


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
    timeline: list[dict] = field(default_factory=list)
    interrupted: int | None = None  # the signal that stopped the run (SIGINT, SIGTERM)

    @property
    def verdict(self) -> dict:
        """``{outcome, initial_status, status, exit_code, hosts}`` (module_utils.outcome); an interrupted run's
        outcome is ``interrupted`` and its exit code 128 + the signal, whatever its partial findings say."""
        verdict = run_outcome(self.findings, self.actions, self.hosts)
        if self.interrupted:
            verdict.update(outcome=INTERRUPTED, exit_code=interrupted_exit_code(self.interrupted))
        return verdict

    @property
    def signal_name(self) -> str | None:
        return signal.Signals(self.interrupted).name if self.interrupted else None

    @property
    def status(self) -> str:
        return self.verdict["status"]

    @property
    def outcome(self) -> str:
        return self.verdict["outcome"]

    @property
    def failed(self) -> bool:
        """The run itself failed: a task failed, a timeout, or Ansible stopped for another reason.

        Unreachable hosts are not run failures: each is a critical finding of its own.
        """
        if self.failures:
            return True
        return self.runner_status != "successful" and not (self.runner_status == "failed" and self.unreachable)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return interrupted_exit_code(self.interrupted)
        return EXIT_RUN_FAILED if self.failed else self.verdict["exit_code"]

    def as_dict(self) -> dict:
        verdict = self.verdict
        run = {"status": self.runner_status, "rc": self.rc, "failed": self.failed}
        if self.interrupted:
            run["signal"] = self.signal_name
        return {
            "schema": REPORT_SCHEMA,
            "scenario": self.scenario,
            "inventory": self.inventory,
            "check": self.check,
            "remediate": self.remediate,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "duration": round(self.finished - self.started, 2),
            "outcome": verdict["outcome"],
            "initial_status": verdict["initial_status"],
            "status": verdict["status"],
            "exit_code": self.exit_code,
            "run": run,
            "hosts": sorted(h for h in self.hosts if h),
            "host_outcomes": {h: v for h, v in verdict["hosts"].items() if h},
            "findings": self.findings,
            "actions": self.actions,
            "failures": self.failures,
            "timeline": self.timeline,
        }

    @classmethod
    def from_report(cls, report: dict) -> "RunResult":
        """The result a recorded report (``as_dict``) came from, enough to render it again."""
        import calendar

        started = float(calendar.timegm(time.strptime(report["started"], "%Y-%m-%dT%H:%M:%SZ")))
        run = report.get("run") or {}
        findings = list(report.get("findings") or [])
        return cls(report["scenario"], list(report.get("inventory") or []), bool(report.get("check")),
                   bool(report.get("remediate")), started=started, finished=started + float(report.get("duration") or 0),
                   runner_status=run.get("status") or "", rc=run.get("rc"), findings=findings,
                   actions=list(report.get("actions") or []), failures=list(report.get("failures") or []),
                   hosts=set(report.get("hosts") or []) | {f.get("host") for f in findings if f.get("host")},
                   unreachable={f["host"] for f in findings if f.get("check") == "ansible_host_reachable" and f.get("host")},
                   timeline=list(report.get("timeline") or []),
                   interrupted=int(signal.Signals[run["signal"]]) if run.get("signal") else None)


TIMELINE_EVENTS = {"runner_on_ok": "ok", "runner_on_failed": "failed", "runner_on_unreachable": "unreachable"}


def _now() -> str:
    """UTC now with milliseconds: the handler sees each event as Ansible reports it."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class EventCollector:
    """ansible-runner event handler: progress lines and findings/actions from task results.

    ``verbosity`` 1 adds a line per task result (status and findings per host); 2 and up
    also stream Ansible's own output (``ansible_output``, default stderr). A ``progress`` with an
    ``event`` method (opsbook.progress.Progress) also gets every event, and shows the steps itself.
    """

    def __init__(self, result: RunResult, progress=None, verbosity: int = 0, ansible_output=None):
        self.result = result
        self.progress = progress or (lambda text: None)
        self.observer = getattr(progress, "event", None)
        self.verbosity = verbosity
        self.ansible_output = ansible_output or (lambda text: print(text, file=sys.stderr, flush=True))
        self.phases = PhaseTracker()

    def __call__(self, event: dict) -> bool:
        kind = event.get("event")
        data = event.get("event_data") or {}
        host = data.get("host")
        if self.verbosity >= 2 and event.get("stdout"):
            self.ansible_output(scrub(event["stdout"]))
        if self.observer is not None:
            self.observer(event)
        if kind in TIMELINE_EVENTS and not (kind == "runner_on_failed" and data.get("ignore_errors")):
            self._step(kind, host, data)
        if kind == "playbook_on_task_start" and self.observer is None:
            self.progress(f"  - {data.get('task')}")
        elif kind == "runner_on_ok":
            self._collect(host, data)
        elif kind == "runner_on_skipped" and self.verbosity == 1:
            self.progress(f"    skipped on {host}")
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
            finding = make_finding("ansible_host_reachable", CRITICAL,
                                   f"host unreachable: {scrub(res.get('msg') or '')}".strip(), target=host)
            self.result.findings.extend(self.phases.tag(host, [dict(finding, host=host)], []))
            self.progress(f"    UNREACHABLE {host}")
        return True  # keep every event in the artifacts

    def _step(self, kind: str, host: str, data: dict) -> None:
        """One timeline entry per task result: when it ended, on which host, how, in which phase (no result data:
        no secrets)."""
        res = data.get("res") or {}
        result = TIMELINE_EVENTS[kind]
        if result == "ok" and res.get("changed"):
            result = "changed"
        acted = any(isinstance(item, dict) and item.get("actions") for item in [res] + list(res.get("results") or []))
        self.result.timeline.append({"time": _now(), "host": host, "task": data.get("task"), "result": result,
                                     "phase": self.phases.phase(host, acted)})

    def _collect(self, host: str, data: dict) -> None:
        res = data.get("res") or {}
        self.result.hosts.add(host)
        items = [res] + list(res.get("results") or [])  # loops report per item
        found: list[dict] = []
        for item in items:
            if not isinstance(item, dict):
                continue
            findings = [dict(f, host=host) for f in item.get("findings") or [] if isinstance(f, dict) and "status" in f]
            actions = [dict(a, host=host) for a in item.get("actions") or [] if isinstance(a, dict)]
            found.extend(self.phases.tag(host, findings, actions))
            self.result.actions.extend(actions)
        self.result.findings.extend(found)
        if self.verbosity == 1:
            from opsbook.report import status_counts

            state = "changed" if res.get("changed") else "ok"
            self.progress(f"    {state} on {host}" + (f": {status_counts(found)}" if found else ""))


def allowed(name: str) -> bool:
    return name in ENV_ALLOW or name.startswith(ENV_ALLOW_PREFIXES)


_SECRET_ENV = re.compile(r"KEY|TOKEN|PASS|SECRET|CREDENTIAL", re.I)


def scrub_artifacts_env(artifacts: Path) -> None:
    """ansible-runner records the run's environment in ``<artifacts>/<ident>/command``: mask secret ones.

    (``K8S_AUTH_API_KEY`` is allowed through to Ansible, so it would otherwise be kept in clear.)
    """
    for command in artifacts.glob("*/command"):
        try:
            data = json.loads(command.read_text())
        except (OSError, ValueError):
            continue
        env = data.get("env") if isinstance(data, dict) else None
        if not isinstance(env, dict):
            continue
        data["env"] = {k: ("********" if _SECRET_ENV.search(k) and v else v) for k, v in env.items()}
        tmp = command.with_name(".command.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle)
        os.replace(tmp, command)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc), parents before their children."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:  # gone meanwhile
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])  # the command name in (...) may hold spaces
        children.setdefault(ppid, []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(0), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(pids: list[int], signum: int = signal.SIGKILL) -> None:
    """Signal every process in ``pids`` (those already gone are skipped)."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


@contextlib.contextmanager
def isolated_environment(env: dict):
    """``os.environ`` is exactly ``env`` inside (ansible-runner seeds the run with a copy of it)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def runner_env() -> dict:
    env = {k: v for k, v in os.environ.items() if allowed(k)}
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


@dataclass
class Vault:
    """How the run gets its vault secrets: a prompt's answer, a password file, vault ids."""

    password: str | None = None  # from --ask-vault-pass; written to a 0600 file in the private dir
    password_file: Path | None = None
    ids: tuple[str, ...] = ()

    def cmdline(self, private: Path, worker_dir: str | None = None) -> list[str]:
        """Ansible's vault options; with ``worker_dir`` (a run on a node) the files travel in the private dir."""
        args: list[str] = []

        def shipped(source: str, name: str) -> str:
            if worker_dir is None:
                return source
            target = private / "vault" / name
            target.parent.mkdir(mode=0o700, exist_ok=True)
            shutil.copy2(Path(source).expanduser(), target)  # an executable client script stays one
            return f"{worker_dir}/vault/{name}"

        if self.password is not None:
            secret = private / "vault-pass"
            fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(self.password + "\n")
            args += ["--vault-password-file", f"{worker_dir}/vault-pass" if worker_dir else str(secret)]
        if self.password_file is not None:
            args += ["--vault-password-file", shipped(str(self.password_file), "password-file")]
        for index, vault_id in enumerate(self.ids):
            label, _, source = vault_id.partition("@")
            args += ["--vault-id", f"{label}@{shipped(source, f'id-{index}')}"]
        return args


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
    vault: Vault | None = None,
    ansible_output=None,
    node=None,
) -> RunResult:
    """Run ``playbook``; ``verbosity`` is opsbook's (-v task results, -vv Ansible's output, -vvv+ Ansible's -v...).

    With ``node`` (an ``opsbook.remote.Node``) the run happens there (transmit | ssh worker | process);
    ``opsbook.remote.NodeError`` when the node cannot run it.
    """
    import ansible_runner

    result = RunResult(scenario, [str(i) for i in inventories], check, remediate, started=time.time())
    private = Path(tempfile.mkdtemp(prefix="opsbook-run-"))
    artifacts = Path(artifacts_dir) if artifacts_dir else private / "artifacts"
    cmdline = ["--check", "--diff"] if check else []
    interrupted: list[int] = []

    def on_signal(signum, frame):  # SIGINT (Ctrl-C) or SIGTERM: cancel Ansible; the run reports what it had
        if not interrupted:
            interrupted.append(signum)
            if progress:
                progress(f"  interrupted ({signal.Signals(signum).name}): cancelling the run ...")

    def cancel() -> bool:
        """ansible-runner's cancel callback: on an interruption, first kill the whole tree under us, since
        ansible-runner kills only ansible-playbook's process group and Ansible's workers run in sessions
        of their own (a worker would finish its task, a remediation step, after the run was stopped)."""
        if interrupted:
            kill_tree(descendants(os.getpid()))
        return bool(interrupted)

    previous = {signum: signal.signal(signum, on_signal) for signum in INTERRUPT_SIGNALS}
    try:
        os.chmod(private, 0o700)
        worker_dir = f"/tmp/opsbook-worker-{uuid.uuid4().hex}" if node else None
        cmdline += (vault or Vault()).cmdline(private, worker_dir)
        job = dict(
            extravars=dict(extravars, opsbook_remediate=remediate, opsbook_scenario=scenario,
                           opsbook_confirm=list(confirm), opsbook_confirm_all=bool(confirm_all)),
            limit=limit,
            verbosity=max(0, verbosity - 2) or None,
            quiet=True,
            timeout=timeout,
            # pexpect_timeout: how often the cancel callback is polled when Ansible prints nothing
            settings={"suppress_ansible_output": True, "pexpect_timeout": 1},
        )
        handler = EventCollector(result, progress, verbosity,
                                 ansible_output or (progress if hasattr(progress, "event") else None))
        shown = progress if hasattr(progress, "__enter__") else contextlib.nullcontext()
        if node:
            from opsbook.remote import node_env, run_remote, stage_inventories

            # the node runs its own copy of the collection: the playbook by FQCN, the inventories streamed
            cmdline += stage_inventories(private, [Path(i) for i in inventories], worker_dir)
            with shown:
                status, rc, explanation = run_remote(
                    node, private, artifacts, dict(job, playbook=f"opsbook.runbooks.{Path(playbook).stem}",
                                                   cmdline=" ".join(shlex.quote(a) for a in cmdline),
                                                   envvars=node_env(runner_env(), node)),
                    handler, worker_dir, timeout=timeout, cancel=cancel)
            runner = SimpleNamespace(status=status, rc=rc, stdout=io.StringIO(explanation))
        else:
            with isolated_environment(runner_env()), shown:
                runner = ansible_runner.run(
                    private_data_dir=str(private),
                    artifact_dir=str(artifacts),
                    rotate_artifacts=10,
                    playbook=str(playbook),
                    inventory=[str(i) for i in inventories],
                    cmdline=" ".join(shlex.quote(a) for a in cmdline) or None,
                    event_handler=handler,
                    cancel_callback=cancel,
                    **job,
                )
        result.runner_status = runner.status
        result.rc = runner.rc
        if interrupted:
            result.interrupted = interrupted[0]
            result.failures.append({"host": None, "task": None,
                                    "message": f"interrupted by {result.signal_name}: Ansible was stopped "
                                               f"({runner.status}); the findings are those reported until then"})
        elif runner.status == "timeout":
            result.failures.append({"host": None, "task": None, "message": f"the run exceeded {timeout}s"})
        elif result.failed and not result.failures:
            tail = scrub((runner.stdout.read() if runner.stdout else "").strip()[-2000:])
            result.failures.append({"host": None, "task": None, "message": tail or f"ansible rc {runner.rc}"})
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if artifacts_dir:
            scrub_artifacts_env(Path(artifacts_dir))
        result.finished = time.time()
        shutil.rmtree(private, ignore_errors=True)  # holds extravars and the vault password; artifacts kept only if asked
    return result
