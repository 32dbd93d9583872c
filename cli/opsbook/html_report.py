"""A recorded report as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched.

The page shows the outcome banner (colour, words, exit code), what ran (scenario, inventory, command
line, time), the diagnosis / remediation / verification sections with their findings (value,
threshold, unit, status, target, phase), the run's timeline (one bar per task result, from the
report's ``timeline``) and trend charts: every numeric finding of the run measured more than once,
within the run (diagnosis, then verification) or across the scenario's recorded runs (``history``),
such as a consumer lag, a queue's backlog, a latency or a DR rehearsal's RTO/RPO.

Every string from the report (messages and targets come from inventories) goes through
``html.escape``.
"""

from __future__ import annotations

import html

from ansible_collections.opsbook.runbooks.plugins.module_utils.backup.report import timeline_svg
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import NOT_CONFIGURED, severity
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.times import epoch
from opsbook.formats import _number, _ordered, finding_key, outcome_label, threshold_text
from opsbook.report import SECTIONS, status_counts

STATUS_COLOURS = {"ok": "#2e7d32", "unknown": "#757575", "warning": "#f9a825", "critical": "#c62828"}
OUTCOME_COLOURS = {"healthy": "#2e7d32", "resolved": "#2e7d32", "action_needed": "#f9a825", "unresolved": "#c62828",
                   "not_checked": "#8e24aa", "run_failed": "#c62828"}
RESULT_COLOURS = {"ok": "#2e7d32", "changed": "#1565c0", "failed": "#c62828", "unreachable": "#6a1b9a"}
MAX_TRENDS = 24
MAX_TIMELINE_BARS = 200
TREND_RUNS = 20  # earlier runs of the scenario a trend goes back over

CSS = """
body{font-family:sans-serif;margin:0;padding:0 24px 24px;color:#212121;background:#fff}
.banner{margin:0 -24px 16px;padding:16px 24px;color:#fff}
.banner h1{margin:0;font-size:26px}.banner p{margin:4px 0 0;font-size:15px}
table{border-collapse:collapse;width:100%;margin:8px 0 16px;font-size:13px}
th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.num{text-align:right;white-space:nowrap}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:2px 12px;font-size:14px}
dl.meta dt{font-weight:bold}dl.meta dd{margin:0}code{font-size:12px;word-break:break-all}
.status{font-weight:bold;color:#fff;padding:1px 6px;border-radius:3px;white-space:nowrap}
.trends{display:flex;flex-wrap:wrap;gap:12px}.trends figure{margin:0}
.trends figcaption{font-size:12px;max-width:380px}
"""


def _e(value) -> str:
    return html.escape("-" if value in (None, "") else str(value))


def _status(status: str) -> str:
    return f'<span class="status" style="background:{STATUS_COLOURS.get(status, "#757575")}">{_e(status.upper())}</span>'


def _value_cell(finding: dict) -> str:
    value = finding.get("value")
    return _e(finding.get("state")) if value is None else _e(_number(value))


def findings_table(findings: list[dict]) -> str:
    rows = "".join(
        f'<tr class="finding"><td>{_status(f["status"])}</td><td>{_e(f.get("host"))}</td><td>{_e(f["check"])}</td>'
        f'<td>{_e(f.get("target"))}</td><td class="num">{_value_cell(f)}</td><td>{_e(f.get("unit"))}</td>'
        f'<td>{_e(threshold_text(f.get("threshold")))}</td><td>{_e(f.get("phase") or "diagnose")}</td>'
        f'<td>{_e(f.get("message"))}</td></tr>' for f in _ordered(findings))
    return ("<table><thead><tr><th>Status</th><th>Host</th><th>Check</th><th>Target</th><th>Value</th><th>Unit</th>"
            f"<th>Threshold</th><th>Phase</th><th>Message</th></tr></thead><tbody>{rows}</tbody></table>")


def _actions(report: dict) -> str:
    items = []
    for a in report.get("actions") or []:
        mode = "would" if a.get("dry_run") else ("done" if a.get("changed") else "no change")
        items.append(f"<li><b>{_e(mode)}</b> {_e(a.get('host'))}: {_e(a.get('action'))} <code>{_e(a.get('target'))}</code>"
                     f"{': ' + _e(a['detail']) if a.get('detail') else ''}</li>")
    return f'<ul class="actions">{"".join(items)}</ul>' if items else ""


def timeline_steps(report: dict) -> list[dict]:
    """The report's timeline as bars: each task result runs from the host's previous result (or the run's
    start) to its own time; ``phase`` is the host and the task's phase (the chart's label is
    ``host phase - task``; reports before the timeline kept phases have the host alone)."""
    start = epoch(report["started"])
    previous: dict = {}
    steps = []
    for entry in (report.get("timeline") or [])[:MAX_TIMELINE_BARS]:
        end = epoch(entry["time"])
        began = min(previous.get(entry.get("host"), start), end)
        previous[entry.get("host")] = end
        where = " ".join(x for x in (entry.get("host") or "-", entry.get("phase")) if x)
        steps.append({"name": entry.get("task") or "-", "phase": where, "status": entry["result"],
                      "started": began, "finished": end, "duration": end - began})
    return steps


def _trend_key(finding: dict) -> tuple:
    return finding_key(finding)[:3]  # host, check, target: the same measure whatever the phase


def trend_series(report: dict, history=()) -> list[dict]:
    """``[{key, unit, threshold, status, points: [(label, value)]}]``: each numeric finding of ``report``
    measured twice or more, across the earlier ``history`` reports (oldest first) and within the run."""
    series: dict = {}
    for past in list(history) + [report]:
        current = past is report
        for f in past.get("findings") or []:
            if not isinstance(f.get("value"), (int, float)) or isinstance(f.get("value"), bool):
                continue
            label = past["started"] + ("" if (f.get("phase") or "diagnose") == "diagnose" else f" {f['phase']}")
            entry = series.setdefault(_trend_key(f), {"key": _trend_key(f), "points": [], "in_run": False})
            entry["points"].append((label, float(f["value"])))
            if current:
                entry.update(unit=f.get("unit"), threshold=f.get("threshold"), status=f["status"], in_run=True)
    shown = [s for s in series.values() if s["in_run"] and len(s["points"]) >= 2]
    shown.sort(key=lambda s: (-severity(s["status"]), s["key"]))
    return shown[:MAX_TRENDS]


def trend_svg(series: dict, width: int = 380, height: int = 170) -> str:
    """A line chart of one series: its points as an SVG polyline, warn/crit limits as dashed lines."""
    left, right, top, bottom = 52, 10, 12, 30
    values = [v for _, v in series["points"]]
    limits = [(name, series["threshold"][name]) for name in ("warn", "crit")
              if isinstance(series.get("threshold"), dict) and isinstance(series["threshold"].get(name), (int, float))]
    low, high = min(values + [v for _, v in limits]), max(values + [v for _, v in limits])
    if high == low:
        low, high = low - 1, high + 1
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(values) - 1, 1)

    def y(value):
        return top + plot_h * (high - value) / (high - low)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
             f'font-size="10" role="img">',
             f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#ccc"/>']
    for value in (low, high):
        parts.append(f'<text x="{left - 4}" y="{y(value) + 3:.1f}" text-anchor="end">{_e(_number(value))}</text>')
    for name, value in limits:
        colour = STATUS_COLOURS["warning" if name == "warn" else "critical"]
        parts.append(f'<line class="limit" x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                     f'stroke="{colour}" stroke-dasharray="4 3"><title>{_e(name)} {_e(_number(value))}</title></line>')
    coords = [(left + i * step, y(v)) for i, v in enumerate(values)]
    parts.append('<polyline fill="none" stroke="#1565c0" stroke-width="2" points="'
                 + " ".join(f"{x:.1f},{yy:.1f}" for x, yy in coords) + '"/>')
    for (x, yy), (label, value) in zip(coords, series["points"]):
        parts.append(f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="3" fill="#1565c0"><title>{_e(label)}: '
                     f'{_e(_number(value))} {_e(series.get("unit") or "")}</title></circle>')
    first, last = series["points"][0][0], series["points"][-1][0]
    parts.append(f'<text x="{left}" y="{height - 8}">{_e(first)}</text>')
    parts.append(f'<text x="{left + plot_w}" y="{height - 18}" text-anchor="end">{_e(last)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _meta(report: dict, run_id: str | None, command: list[str] | None) -> str:
    mode = [m for m, on in (("check mode", report.get("check")), ("remediation allowed", report.get("remediate"))) if on]
    rows = [("Scenario", _e(report["scenario"])),
            ("Run", f"<code>{_e(run_id)}</code>" if run_id else None),
            ("Inventory", ", ".join(f"<code>{_e(i)}</code>" for i in report.get("inventory") or []) or "-"),
            ("Hosts", _e(", ".join(report.get("hosts") or []))),
            ("Command", f"<code>{_e(' '.join(command))}</code>" if command else None),
            ("Started", f"{_e(report['started'])}, duration {_e(report['duration'])} s"
                        f"{_e(', ' + ', '.join(mode)) if mode else ''}")]
    return '<dl class="meta">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows if v is not None) + "</dl>"


def _banner(report: dict) -> str:
    failed = report["run"]["failed"]
    key = "run_failed" if failed else report["outcome"]
    if failed:
        detail = "the run itself failed"
    elif report["initial_status"] != report["status"]:
        detail = f"diagnosis {report['initial_status']}, now {report['status']}"
    else:
        detail = f"status {report['status']}"
    return (f'<header class="banner" id="outcome" style="background:{OUTCOME_COLOURS.get(key, "#757575")}">'
            f"<h1>{_e(outcome_label(report))}: {_e(report['scenario'])}</h1>"
            f"<p>outcome <b>{_e(key)}</b> ({_e(detail)}) - exit code <b>{_e(report['exit_code'])}</b></p></header>")


def render_html(report: dict, run_id: str | None = None, command: list[str] | None = None, history=()) -> str:
    """The page of an opsbook.report/v2 ``report``; ``history``: the scenario's earlier reports, oldest first."""
    title = f"opsbook {outcome_label(report)}: {report['scenario']}"
    body = [_banner(report), _meta(report, run_id, command)]
    judged = [f for f in report["findings"] if f.get("state") != NOT_CONFIGURED]
    for phase, heading in SECTIONS:
        found = [f for f in judged if f.get("phase", "diagnose") == phase]
        actions = _actions(report) if phase == "remediate" else ""
        if not found and not actions and phase != "diagnose":
            continue
        counts = f" ({_e(status_counts(found))})" if found or phase == "diagnose" else ""
        body.append(f'<section id="{phase}"><h2>{heading.capitalize()}{counts}</h2>{actions}'
                    + (findings_table(found) if found else ("" if actions else "<p>No check gave a verdict.</p>"))
                    + "</section>")
    skipped = [f for f in report["findings"] if f.get("state") == NOT_CONFIGURED]
    if skipped:
        body.append('<section id="not-checked"><h2>Not checked</h2><ul>'
                    + "".join(f"<li><code>{_e(f['check'])}</code>: {_e(f.get('message'))}</li>" for f in skipped)
                    + "</ul></section>")
    if report.get("failures"):
        body.append('<section id="failures"><h2>Run failures</h2><ul>' + "".join(
            f"<li>{_e(' on '.join(x for x in (f.get('task'), f.get('host')) if x) or 'run')}: {_e(f['message'])}</li>"
            for f in report["failures"]) + "</ul></section>")
    trends = trend_series(report, history)
    if trends:
        body.append('<section id="trends"><h2>Trends</h2><div class="trends">' + "".join(
            f'<figure>{trend_svg(s)}<figcaption>{_e(": ".join(x for x in s["key"] if x))} '
            f'({_e(s.get("unit") or "")}, {len(s["points"])} points, now {_e(s["status"])})</figcaption></figure>'
            for s in trends) + "</div></section>")
    steps = timeline_steps(report)
    if steps:
        shown = "" if len(report["timeline"]) <= len(steps) else f" (the first {len(steps)} of {len(report['timeline'])} task results)"
        body.append(f'<section id="timeline"><h2>Timeline{shown}</h2>'
                    + timeline_svg(steps, report["scenario"], RESULT_COLOURS) + '<p class="legend">'
                    + " ".join(f'<span class="status" style="background:{c}">{_e(r)}</span>' for r, c in RESULT_COLOURS.items())
                    + "</p></section>")
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def earlier_reports(scenario: str, before_id: str | None = None, limit: int = TREND_RUNS, directory=None) -> list[dict]:
    """The reports of ``scenario``'s recorded runs older than ``before_id`` (all when None), at most ``limit``,
    oldest first; unreadable ones are left out."""
    from opsbook.history import HistoryError, list_runs, load_run

    reports = []
    for meta in list_runs(directory, scenario=scenario):
        if before_id is not None and meta["id"] >= before_id:
            continue
        try:
            reports.append(load_run(meta["id"], directory)[1])
        except HistoryError:
            continue
        if len(reports) >= limit:
            break
    return reports[::-1]
