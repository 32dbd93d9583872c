"""The findings table a person reads at the end of a run."""

from __future__ import annotations

import shutil
import textwrap

from ansible_collections.opsbook.runbooks.plugins.module_utils.findings import severity


def _value(finding: dict) -> str:
    value = finding.get("value")
    if value is None:
        return "-"
    if isinstance(value, float):
        value = ("%.2f" % value).rstrip("0").rstrip(".")
    unit = finding.get("unit") or ""
    return f"{value}{'' if unit in ('', '%') else ' '}{unit}"


def render(app, result) -> str:
    lines = []
    title = f"opsbook {result.scenario}"
    if result.check:
        title += " (check mode)"
    lines.append(app.style(title, bold=True))
    lines.append(f"inventory: {', '.join(result.inventory)}   hosts: {', '.join(sorted(h for h in result.hosts if h)) or '-'}"
                 f"   duration: {result.finished - result.started:.1f}s")
    findings = sorted(result.findings, key=lambda f: (-severity(f["status"]), f.get("host") or "", f["check"]))
    width = shutil.get_terminal_size((120, 24)).columns
    if findings:
        checks = max([len("CHECK")] + [len(f["check"]) for f in findings])
        values = max([len("VALUE")] + [len(_value(f)) for f in findings])
        lines.append("")
        header = f"{'STATUS':<9} {'CHECK'.ljust(checks)}  {'VALUE'.ljust(values)}  MESSAGE"
        lines.append(app.style(header, bold=True))
        indent = 9 + 1 + checks + 2 + values + 2
        msg_width = max(30, width - indent)
        for f in findings:
            status = app.status(f["status"]) + " " * (9 - len(f["status"]))
            message = f.get("message") or ""
            if f.get("target") and f["target"] not in message:
                message += f" [{f['target']}]"
            wrapped = textwrap.wrap(message, msg_width) or [""]
            lines.append(f"{status} {f['check'].ljust(checks)}  {_value(f).ljust(values)}  {wrapped[0]}")
            lines.extend(" " * indent + more for more in wrapped[1:])
    else:
        lines.append("\nno findings were reported")
    if result.actions:
        lines.append("")
        lines.append(app.style("ACTIONS", bold=True))
        for a in result.actions:
            mode = "would" if a.get("dry_run") else ("done" if a.get("changed") else "no change")
            lines.append(f"  [{mode}] {a.get('action')} {a.get('target')}: {a.get('detail') or ''}".rstrip())
    for failure in result.failures:
        where = " on ".join(x for x in (failure.get("task"), failure.get("host")) if x)
        lines.append(app.style(f"\nrun failed{(' at ' + where) if where else ''}: {failure['message']}", fg="red"))
    counts = {}
    for f in result.findings:
        counts[f["status"]] = counts.get(f["status"], 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: severity(kv[0]))) or "none"
    lines.append("")
    if result.failed:
        lines.append(f"overall: {app.style('RUN FAILED', fg='red', bold=True)}  (findings before the failure: {summary})")
    else:
        lines.append(f"overall: {app.status(result.status)}  ({summary})")
    return "\n".join(lines)
