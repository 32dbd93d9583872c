"""The drills users run (`opsbook drill`), and how one is judged: detect -> fix -> verify, then cleanup.

A drill never takes an inventory: it reads the lab's own state (lab.json in the lab dir) and runs its
scenario on the collection's lab inventory that matches the fault. Each stage is a line with a verdict;
the drill passes only when every stage does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import OpsbookError
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.labinfo import default_lab_dir, read_state
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.outcome import (
    ACTION_NEEDED,
    DIAGNOSE,
    RESOLVED,
    is_verdict,
)

DRILL_SCHEMA = "opsbook.drill/v1"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class NotALab(Exception):
    """The drill's target is not a running local lab (the message says which `opsbook lab up` fixes it)."""


@dataclass
class Drill:
    name: str
    scenario: str
    fault: str
    services: tuple[str, ...]
    inventory: str  # a directory under the collection's inventories/: the lab or one of its twins
    factory: object  # (lab state) -> the fault object (inject, present, cleanup, ...)
    variables: dict = field(default_factory=dict)  # timing only (seed thresholds stay the roles' defaults)

    @property
    def up_command(self) -> str:
        extra = [s for s in self.services if s not in ("postgres", "redis", "kafka")]
        return "opsbook lab up" + "".join(f" --with {s}" for s in extra)


def _api_down(state):
    from opsbook.drills.compose import ServiceStopped

    return ServiceStopped(state["services"]["docker"])


def _idle_in_transaction(state):
    from opsbook.drills.postgres import IdleInTransaction

    return IdleInTransaction(state["services"]["postgres"])


DRILLS: dict[str, Drill] = {d.name: d for d in (
    Drill("api-down", "api-down", "the lab's compose backend (conectsuite/backend) is stopped",
          ("postgres", "docker"), "conectsuite-lab", _api_down,
          {"api_down_verify_delay": 1, "api_down_timeout": 60}),
    Drill("postgres-connection-pool", "postgres-connection-pool",
          "3 sessions idle in transaction for over 30 s in a scratch database", ("postgres",), "lab",
          _idle_in_transaction),
)}


@dataclass
class Stage:
    stage: str
    ok: bool | None  # None: skipped
    message: str

    def as_dict(self) -> dict:
        return {"stage": self.stage, "ok": self.ok, "message": self.message}


def lab_state(drill: Drill, lab_dir: str | None) -> dict:
    """The lab's state (with secrets), or NotALab naming the `opsbook lab up` the drill needs."""
    from opsbook.lab.core import Lab

    lab_dir = str(Path(lab_dir).expanduser().resolve()) if lab_dir else default_lab_dir()
    try:
        state = read_state(lab_dir, with_secrets=True)
    except OpsbookError as exc:
        raise NotALab(f"no lab at {lab_dir} ({exc}); drill {drill.name} needs {', '.join(drill.services)}: "
                      f"`{drill.up_command}`")
    missing = [s for s in drill.services if s not in state.get("services", {})]
    lab = Lab(lab_dir, log=lambda *_: None)
    stopped = [s.name for s in lab.services(list(drill.services)) if s.name not in missing and not s.running()]
    if missing or stopped:
        why = "; ".join(x for x in (f"not started: {', '.join(missing)}" if missing else "",
                                    f"stopped: {', '.join(stopped)}" if stopped else "") if x)
        raise NotALab(f"the lab at {lab_dir} is not ready for drill {drill.name} ({why}): `{drill.up_command}`")
    for name in drill.services:
        svc = state["services"][name]
        host = svc.get("host")
        docker_host = svc.get("docker_host", "")
        if (host and host not in LOOPBACK) or (docker_host and not docker_host.startswith(f"unix://{lab_dir}/")):
            raise NotALab(f"{name} in {lab_dir}/lab.json is not the local lab's ({host or docker_host}): "
                          "a drill only injects faults into the local lab")
    state["lab_dir"] = lab_dir
    return state


def detected(report: dict, fault) -> Stage:
    """The fault is seen when the diagnosis has a non-ok verdict among the fault's checks for its target."""
    hits = [f for f in report["findings"] if f.get("phase") == DIAGNOSE and is_verdict(f) and f["status"] != "ok"
            and f["check"] in fault.detect_checks and f.get("target") == fault.target]
    if hits:
        first = hits[0]
        return Stage("detect", True, f"{first['status'].upper()} {first['check']}: {first['message']}")
    return Stage("detect", False, f"the diagnosis did not see the fault (initial status {report['initial_status']}; "
                                  f"expected a warning/critical {' or '.join(fault.detect_checks)} for {fault.target})")


def judge(report: dict, fault, remediate: bool) -> list[Stage]:
    """detect, fix, verify of one drill run (its report and what the lab shows now)."""
    stages = [detected(report, fault)]
    done = [a for a in report["actions"] if a.get("changed") and not a.get("dry_run")]
    if report["run"]["failed"]:
        stages.append(Stage("run", False, f"the run failed ({report['run']['status']}): "
                                          + "; ".join(f.get("message", "") for f in report["failures"])[:300]))
        return stages
    if not remediate:
        stages.append(Stage("fix", None, "skipped (--no-remediate: diagnose only)"))
        still = fault.present()
        ok = still and not done and report["outcome"] == ACTION_NEEDED
        stages.append(Stage("verify", ok, f"not fixed, as asked (outcome {report['outcome']}): {fault.observe()}" if ok
                            else f"expected the fault left in place (outcome action_needed, no change); outcome "
                                 f"{report['outcome']}, {len(done)} change(s); the lab shows: {fault.observe()}"))
        return stages
    actions = ", ".join(f"{a['action']} {a['target']}" for a in done)
    stages.append(Stage("fix", bool(done), f"done: {actions}" if done else "the scenario changed nothing"))
    still = fault.present()
    ok = report["outcome"] == RESOLVED and not still
    stages.append(Stage("verify", ok, f"outcome resolved and the lab agrees: {fault.observe()}" if ok
                        else f"outcome {report['outcome']} (status {report['status']}); the lab shows: {fault.observe()}"))
    return stages


def run_drill(drill: Drill, state: dict, remediate: bool, progress=None, verbosity: int = 0, timeout: int = 900):
    """Inject, run the scenario as `opsbook run` does, judge, clean up (always). -> (stages, report|None)."""
    from opsbook.catalog import collection_root, load_catalog
    from opsbook.runner import run_playbook

    say = progress or (lambda *_: None)
    entry = load_catalog()[drill.scenario]
    fault = drill.factory(state)
    stages: list[Stage] = []
    previous = os.environ.get("OPSBOOK_LAB_DIR")
    os.environ["OPSBOOK_LAB_DIR"] = state["lab_dir"]  # the lab lookup of the inventory reads this lab
    wrong = fault.baseline()
    if wrong:  # nothing injected: nothing to put back either
        return [Stage("baseline", False, wrong)], None
    try:
        try:
            stages.append(Stage("inject", True, fault.inject()))
        except Exception as exc:  # noqa: BLE001 - a failed injection is a stage verdict, cleanup still runs
            stages.append(Stage("inject", False, f"{fault.describe()}: {exc}"))
            return stages, None
        say(f"drill {drill.name}: fault injected ({stages[-1].message}); running {drill.scenario}"
            f"{' with remediation' if remediate else ' diagnose only'}")
        result = run_playbook(drill.scenario, entry.playbook_path, [collection_root() / "inventories" / drill.inventory],
                              dict(drill.variables, **fault.variables()), remediate=remediate,
                              confirm=fault.confirm() if remediate else (), verbosity=verbosity, timeout=timeout,
                              progress=progress)
        report = result.as_dict()
        stages += judge(report, fault, remediate)
        return stages, (result, report)
    finally:
        try:
            stages.append(Stage("cleanup", True, fault.cleanup()))
        except Exception as exc:  # noqa: BLE001 - reported as the cleanup stage's failure
            stages.append(Stage("cleanup", False, f"could not put the lab back: {exc}"))
        if previous is None:
            os.environ.pop("OPSBOOK_LAB_DIR", None)
        else:
            os.environ["OPSBOOK_LAB_DIR"] = previous
