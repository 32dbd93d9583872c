"""A recorded report in the formats people and CI systems read: Markdown, JUnit XML, and a diff of two runs."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    CRITICAL,
    NOT_CONFIGURED,
    WARNING,
    severity,
)
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.outcome import is_verdict
from opsbook.report import SECTIONS, _value, status_counts

FAILING = (WARNING, CRITICAL)


def threshold_text(threshold: dict | None) -> str:
    """``warn 80, crit 90 (above)``, ``> 20 (above)`` (strict), ``expected running``, ``-`` for none."""
    if not threshold:
        return "-"
    if "expected" in threshold:
        return f"expected {threshold['expected']}"
    limits = ", ".join(f"{name} {_number(threshold[name])}" for name in ("warn", "crit") if threshold.get(name) is not None)
    strict = "strictly " if threshold.get("strict") else ""
    return f"{limits} ({strict}{threshold.get('direction') or 'above'})" if limits else "-"


def _number(value) -> str:
    return ("%.2f" % value).rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def outcome_label(report: dict) -> str:
    return "RUN FAILED" if report["run"]["failed"] else report["outcome"].upper().replace("_", " ")


def _ordered(findings: list[dict]) -> list[dict]:
    return sorted(findings, key=lambda f: (-severity(f["status"]), f.get("host") or "", f["check"], f.get("target") or ""))


def _cell(text) -> str:
    return str(text if text not in (None, "") else "-").replace("|", "\\|").replace("\n", " ")


def markdown(report: dict, run_id: str | None = None) -> str:
    """The report for a ticket: outcome banner, diagnosis / actions / verification, findings with thresholds."""
    banner = f"{outcome_label(report)}: {report['scenario']}"
    lines = [f"# opsbook {banner}", ""]
    if report["run"]["failed"]:
        lines.append(f"**Outcome:** run failed - exit {report['exit_code']}")
    else:
        detail = f"status `{report['status']}`"
        if report["initial_status"] != report["status"]:
            detail = f"diagnosis `{report['initial_status']}`, now `{report['status']}`"
        lines.append(f"**Outcome:** `{report['outcome']}` ({detail}) - exit {report['exit_code']}")
    lines += ["",
              f"- run: `{run_id}`" if run_id else None,
              f"- started: {report['started']}, duration {report['duration']}s"
              f"{', check mode' if report.get('check') else ''}{', remediation allowed' if report.get('remediate') else ''}",
              f"- inventory: {', '.join(f'`{i}`' for i in report.get('inventory') or []) or '-'}",
              f"- hosts: {', '.join(report.get('hosts') or []) or '-'}"]
    lines = [line for line in lines if line is not None]
    judged = [f for f in report["findings"] if f.get("state") != NOT_CONFIGURED]
    for phase, heading in SECTIONS:
        found = [f for f in judged if f.get("phase", "diagnose") == phase]
        actions = (report.get("actions") or []) if phase == "remediate" else []
        if not found and not actions and phase != "diagnose":
            continue
        lines += ["", f"## {heading.capitalize()}" + (f" ({status_counts(found)})" if found or phase == "diagnose" else "")]
        for a in actions:
            mode = "would" if a.get("dry_run") else ("done" if a.get("changed") else "no change")
            host = f"{a['host']}: " if a.get("host") and len(report.get("hosts") or []) > 1 else ""
            lines.append(f"- **{mode}** {host}{a.get('action')} `{a.get('target')}`{': ' + a['detail'] if a.get('detail') else ''}")
        if actions and found:
            lines.append("")
        if found:
            lines += ["| Status | Host | Check | Target | Value | Threshold | Message |",
                      "|---|---|---|---|---|---|---|"]
            lines += ["| " + " | ".join(_cell(c) for c in (f["status"].upper(), f.get("host"), f["check"], f.get("target"),
                                                           _value(f), threshold_text(f.get("threshold")), f.get("message"))) + " |"
                      for f in _ordered(found)]
        elif not actions:
            lines.append("No check gave a verdict.")
    skipped = [f for f in report["findings"] if f.get("state") == NOT_CONFIGURED]
    if skipped:
        lines += ["", "## Not checked", ""] + [f"- `{f['check']}`: {f.get('message') or ''}" for f in skipped]
    if report.get("failures"):
        lines += ["", "## Run failures", ""]
        lines += [f"- {' on '.join(x for x in (f.get('task'), f.get('host')) if x) or 'run'}: {f['message']}"
                  for f in report["failures"]]
    return "\n".join(lines) + "\n"


def junit(report: dict, run_id: str | None = None) -> str:
    """JUnit XML: one testcase per finding (failure for warning/critical, skipped without a verdict),
    an error testcase per run failure."""
    scenario = report["scenario"]
    suite = ET.Element("testsuite", name=f"opsbook.{scenario}", timestamp=report["started"].rstrip("Z"),
                       time=str(report["duration"]))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    properties = ET.SubElement(suite, "properties")
    for name, value in (("run", run_id), ("outcome", report["outcome"]), ("exit_code", report["exit_code"]),
                        ("inventory", ", ".join(report.get("inventory") or []))):
        if value is not None:
            ET.SubElement(properties, "property", name=name, value=str(value))
    for f in report["findings"]:
        counts["tests"] += 1
        name = f"{f['host']}: {f['check']}" if f.get("host") else f["check"]
        if f.get("target"):
            name += f" [{f['target']}]"
        case = ET.SubElement(suite, "testcase", name=name, classname=f"{scenario}.{f.get('phase') or 'diagnose'}", time="0")
        text = f"{f.get('message') or ''}\nvalue: {_value(f)}\nthreshold: {threshold_text(f.get('threshold'))}"
        if f["status"] in FAILING and is_verdict(f):
            counts["failures"] += 1
            ET.SubElement(case, "failure", message=f.get("message") or f["check"], type=f["status"]).text = text
        elif not is_verdict(f) and f.get("state") == NOT_CONFIGURED:
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=f.get("message") or NOT_CONFIGURED)
        else:
            ET.SubElement(case, "system-out").text = f"{f['status']}: {text}"
    for failure in report.get("failures") or []:
        counts["tests"] += 1
        counts["errors"] += 1
        where = " on ".join(x for x in (failure.get("task"), failure.get("host")) if x) or "run"
        case = ET.SubElement(suite, "testcase", name=f"run failed: {where}", classname=f"{scenario}.run", time="0")
        ET.SubElement(case, "error", message=failure["message"][:200], type="run_failed").text = failure["message"]
    for key, value in counts.items():
        suite.set(key, str(value))
    root = ET.Element("testsuites", name="opsbook", time=str(report["duration"]),
                      **{k: str(v) for k, v in counts.items() if k != "skipped"})
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def finding_key(finding: dict) -> tuple:
    """What makes a finding the same one in two runs: host, check, target, phase."""
    return (finding.get("host") or "", finding["check"], finding.get("target") or "", finding.get("phase") or "diagnose")


def diff_reports(before: dict, after: dict) -> dict:
    """``{new, cleared, changed, unchanged}``: findings only in ``after``, only in ``before``, in both with
    another status or value (``{key, before, after}``), and the count of the others."""
    old = {finding_key(f): f for f in before["findings"]}
    new = {finding_key(f): f for f in after["findings"]}
    changed = [{"key": list(k), "before": old[k], "after": new[k]} for k in sorted(old.keys() & new.keys())
               if (old[k]["status"], old[k].get("value"), old[k].get("state")) !=
               (new[k]["status"], new[k].get("value"), new[k].get("state"))]
    return {"new": [new[k] for k in sorted(new.keys() - old.keys())],
            "cleared": [old[k] for k in sorted(old.keys() - new.keys())],
            "changed": changed,
            "unchanged": len(old.keys() & new.keys()) - len(changed)}


def _key_text(key) -> str:
    host, check, target, phase = key
    return f"{host + ': ' if host else ''}{check}{' [' + target + ']' if target else ''} ({phase})"


def diff_text(diff: dict, run_a: str, run_b: str, outcome_a: str, outcome_b: str) -> str:
    lines = [f"diff {run_a} -> {run_b}", f"outcome: {outcome_a} -> {outcome_b}"]
    for title, items in (("NEW", diff["new"]), ("CLEARED", diff["cleared"])):
        if items:
            lines += ["", f"{title} ({len(items)})"]
            lines += [f"  {f['status'].upper():<9} {_key_text(finding_key(f))}  {_value(f)}  {f.get('message') or ''}".rstrip()
                      for f in items]
    if diff["changed"]:
        lines += ["", f"CHANGED ({len(diff['changed'])})"]
        for c in diff["changed"]:
            a, b = c["before"], c["after"]
            lines.append(f"  {_key_text(c['key'])}: {a['status'].upper()} {_value(a)} -> {b['status'].upper()} {_value(b)}")
    lines += ["", f"{len(diff['new'])} new, {len(diff['cleared'])} cleared, {len(diff['changed'])} changed, "
              f"{diff['unchanged']} unchanged"]
    return "\n".join(lines)
