"""The report a person reads at the end of a run: diagnosis, what was done, verification, outcome."""

from __future__ import annotations

import shutil
import textwrap

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import NOT_CONFIGURED, severity, summarize
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.outcome import (
    DIAGNOSE,
    REMEDIATE,
    VERIFY,
    is_verdict,
)

OUTCOME_COLOUR = {"healthy": "green", "resolved": "green", "action_needed": "yellow", "unresolved": "red",
                  "not_checked": "magenta", "interrupted": "red"}
SECTIONS = ((DIAGNOSE, "DIAGNOSIS"), (REMEDIATE, "REMEDIATION"), (VERIFY, "VERIFICATION"))


def _value(finding: dict) -> str:
    value = finding.get("value")
    if value is None:
        return finding.get("state") or "-"
    if isinstance(value, float):
        value = ("%.2f" % value).rstrip("0").rstrip(".")
    unit = finding.get("unit") or ""
    return f"{value}{'' if unit in ('', '%') else ' '}{unit}"


def status_counts(findings: list[dict]) -> str:
    """``2 ok, 1 critical`` (mildest first), ``none`` for no findings."""
    return ", ".join(f"{n} {s}" for s, n in summarize(findings)["counts"].items() if n) or "none"


class _Table:
    def __init__(self, app, findings: list[dict]):
        self.app = app
        self.multi_host = len({f.get("host") for f in findings}) > 1
        self.checks = max([len("CHECK")] + [len(self._check(f)) for f in findings])
        self.values = max([len("VALUE")] + [len(_value(f)) for f in findings])
        width = shutil.get_terminal_size((120, 24)).columns
        self.indent = 9 + 1 + self.checks + 2 + self.values + 2
        self.msg_width = max(30, width - self.indent)

    def _check(self, f: dict) -> str:
        return f"{f['host']}: {f['check']}" if self.multi_host and f.get("host") else f["check"]

    def header(self) -> str:
        return self.app.style(f"{'STATUS':<9} {'CHECK'.ljust(self.checks)}  {'VALUE'.ljust(self.values)}  MESSAGE", bold=True)

    def rows(self, findings: list[dict]) -> list[str]:
        lines = []
        for f in sorted(findings, key=lambda f: (-severity(f["status"]), f.get("host") or "", f["check"])):
            status = self.app.status(f["status"]) + " " * (9 - len(f["status"]))
            message = f.get("message") or ""
            if f.get("target") and f["target"] not in message:
                message += f" [{f['target']}]"
            wrapped = textwrap.wrap(message, self.msg_width) or [""]
            lines.append(f"{status} {self._check(f).ljust(self.checks)}  {_value(f).ljust(self.values)}  {wrapped[0]}")
            lines.extend(" " * self.indent + more for more in wrapped[1:])
        return lines


def _actions(result) -> list[str]:
    lines = []
    for a in result.actions:
        mode = "would" if a.get("dry_run") else ("done" if a.get("changed") else "no change")
        host = f"{a['host']}: " if a.get("host") and len(result.hosts) > 1 else ""
        lines.append(f"  [{mode}] {host}{a.get('action')} {a.get('target')}: {a.get('detail') or ''}".rstrip())
    return lines


def render(app, result) -> str:
    verdict = result.verdict
    lines = []
    title = f"opsbook {result.scenario}"
    if result.check:
        title += " (check mode)"
    lines.append(app.style(title, bold=True))
    lines.append(f"inventory: {', '.join(result.inventory)}   hosts: {', '.join(sorted(h for h in result.hosts if h)) or '-'}"
                 f"   duration: {round(result.finished - result.started, 2):.1f}s")  # as the report keeps it
    skipped = [f for f in result.findings if f.get("state") == NOT_CONFIGURED]
    judged = [f for f in result.findings if f.get("state") != NOT_CONFIGURED]
    table = _Table(app, result.findings)
    for phase, heading in SECTIONS:
        found = [f for f in judged if f.get("phase", DIAGNOSE) == phase]
        actions = _actions(result) if phase == REMEDIATE else []
        if not found and not actions:
            if phase == DIAGNOSE:
                lines += ["", app.style(heading, bold=True), "  no check gave a verdict"]
            continue
        lines += ["", app.style(f"{heading}  ({status_counts(found)})" if found else heading, bold=True)]
        lines += actions
        if found:
            lines += [table.header()] + table.rows(found)
    if skipped:
        lines += ["", app.style("NOT CHECKED", bold=True)]
        lines += [f"  {f['check']}: {f.get('message') or ''}" for f in skipped]
    for failure in result.failures:
        where = " on ".join(x for x in (failure.get("task"), failure.get("host")) if x)
        lines.append(app.style(f"\nrun failed{(' at ' + where) if where else ''}: {failure['message']}", fg="red"))
    lines.append("")
    if result.interrupted:
        lines.append(f"outcome: {app.style('INTERRUPTED', fg='red', bold=True)} by {result.signal_name}  (findings "
                     f"until then: {status_counts([f for f in judged if is_verdict(f)])})   exit {result.exit_code}")
        return "\n".join(lines)
    if result.failed:
        lines.append(f"outcome: {app.style('RUN FAILED', fg='red', bold=True)}  (findings before the failure: "
                     f"{status_counts([f for f in judged if is_verdict(f)])})")
        return "\n".join(lines)
    outcome = verdict["outcome"]
    shown = app.style(outcome.upper().replace("_", " "), fg=OUTCOME_COLOUR.get(outcome), bold=True)
    detail = f"status {app.status(verdict['status'])}"
    if verdict["initial_status"] != verdict["status"]:
        detail = f"diagnosis {app.status(verdict['initial_status'])}, now {app.status(verdict['status'])}"
    if len(verdict["hosts"]) > 1:
        per = {}
        for name, host in verdict["hosts"].items():
            per.setdefault(host["outcome"], []).append(name or "-")
        detail += "; " + "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(per.items()))
    lines.append(f"outcome: {shown}  ({detail})   exit {result.exit_code}")
    return "\n".join(lines)
