# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Disaster-recovery rehearsal: timeline, achieved RTO/RPO against targets, and a readable report.

Definitions used (and printed in the report):

* **achieved RTO** - from the start of the first restore step to the end of the last
  restore/verification step: how long recovering every component took.
* **achieved RPO** - from the start of the oldest backup that was restored to the start
  of the restore: the data a disaster at that moment would have lost.
* **scheduled worst-case RPO** - the backup interval plus the longest backup: what the
  backup schedule can promise at worst (the ML Bling seed backs up every 6 h but
  targets RPO 1 h, which this check reports).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.backup import common as backup_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    CRITICAL,
    OK,
    UNKNOWN,
    make_finding,
    overall,
    severity,
    threshold_finding,
)

_REPORT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
PHASES = ("backup", "restore", "verify", "cleanup", "stop", "migrate", "start")
# Phases whose span is the achieved RTO (stop/migrate/start: a database recovery's downtime).
RECOVERY_PHASES = ("stop", "restore", "migrate", "start", "verify")
_COLOURS = {"ok": "#2e7d32", "warning": "#f9a825", "critical": "#c62828", "unknown": "#757575", "failed": "#c62828"}


def report_argument_spec():
    return dict(
        steps=dict(type="list", elements="dict", required=True),
        report_dir=dict(type="path", required=True),
        title=dict(type="str", default="Disaster-recovery rehearsal"),
        rto_target_hours=dict(type="float", default=4.0),
        rpo_target_hours=dict(type="float", default=1.0),
        backup_interval_hours=dict(type="float", default=6.0),
        schedule_check=dict(type="bool", default=True),
        report_name=dict(type="str", default="dr-rehearsal"),
    )


def step_from_result(step):
    """Normalise ``{name, phase, result}`` (a registered task result) into a timeline step."""
    name, phase, result = step.get("name"), step.get("phase"), step.get("result") or {}
    if not name:
        raise InvalidInput("steps: every step needs a name")
    if phase not in PHASES:
        raise InvalidInput("steps: %s has phase %r, expected one of %s" % (name, phase, ", ".join(PHASES)))
    if not isinstance(result, dict):
        raise InvalidInput("steps: %s - result must be a registered task result (a dict)" % name)
    if result.get("skipped"):
        return None
    items = [r for r in result.get("results") or [] if isinstance(r, dict) and not r.get("skipped")]
    if result.get("results") is not None and not items:
        return None
    findings = [f for r in [result] + items for f in r.get("findings") or [] if isinstance(f, dict) and "status" in f]
    failed = bool(result.get("failed")) or any(r.get("failed") for r in items)
    status = "failed" if failed else overall(findings) if findings else OK if result.get("rc") == 0 else UNKNOWN
    started = step["started"] if step.get("started") is not None else result.get("started")
    finished = step["finished"] if step.get("finished") is not None else result.get("finished")
    item_times = [(r["started"], r["finished"]) for r in items if r.get("started") is not None and r.get("finished") is not None]
    if started is None and finished is None and item_times:  # a loop: from its first start to its last end
        started, finished = min(t[0] for t in item_times), max(t[1] for t in item_times)
    backup_points = [p for p in [_backup_started(r) for r in [result] + items] if p is not None]
    if failed and not result.get("msg"):
        result = dict(result, msg="; ".join(str(r.get("msg")) for r in items if r.get("failed")))
    message = result.get("msg") if failed else "; ".join(f.get("message") or "" for f in findings if f["status"] != OK)
    return {
        "name": name,
        "phase": phase,
        "status": status,
        "started": float(started) if started is not None else None,
        "finished": float(finished) if finished is not None else None,
        "duration": (float(finished) - float(started)) if started is not None and finished is not None else None,
        "backup_started": min(backup_points) if backup_points else None,
        "message": message or "",
    }


def _backup_started(result):
    """When the backup a result made or restored began (epoch), if it says."""
    return result.get("backup_started") or (result.get("manifest") or {}).get("started_epoch")


def assess(steps, rto_target_hours, rpo_target_hours, backup_interval_hours, target="dr-rehearsal",
           schedule_check=True):
    """Achieved RTO/RPO and findings from normalised steps."""
    for option, value in (("rto_target_hours", rto_target_hours), ("rpo_target_hours", rpo_target_hours),
                          ("backup_interval_hours", backup_interval_hours)):
        if value is None or value <= 0:
            raise InvalidInput("%s: must be a positive number of hours, got %r" % (option, value))
    findings = []
    failed = [s for s in steps if s["status"] in ("failed", CRITICAL)]
    for step in failed:
        findings.append(make_finding("dr_step", CRITICAL, "step '%s' (%s) %s: %s" % (
            step["name"], step["phase"], "failed" if step["status"] == "failed" else "is critical", step["message"]),
            target=target))
    timed = [s for s in steps if s["started"] is not None and s["finished"] is not None]
    backups = [s for s in timed if s["phase"] == "backup"]
    recovery = [s for s in timed if s["phase"] in RECOVERY_PHASES]
    rto = rpo = schedule_rpo = None
    if recovery and not failed:
        start = min(s["started"] for s in recovery)
        rto = max(s["finished"] for s in recovery) - start
        # the restored backups' own start when the restores report it, else the backups taken in this run
        points = [s["backup_started"] for s in recovery if s["phase"] == "restore" and s["backup_started"]] or \
            [s["backup_started"] or s["started"] for s in backups]
        if points:
            rpo = start - min(points)
    if backups and schedule_check:
        schedule_rpo = backup_interval_hours * 3600 + max(s["duration"] for s in backups)
    downtime = any(s["phase"] in ("stop", "start") for s in steps)
    findings.append(threshold_finding("dr_rto", _round(rto), crit=rto_target_hours * 3600, unit="s", target=target,
                                      label="achieved RTO (%s)" % ("apps stopped until the recovery was verified"
                                                                   if downtime else "restore and verify every component")))
    findings.append(threshold_finding("dr_rpo", _round(rpo), crit=rpo_target_hours * 3600, unit="s", target=target,
                                      label="achieved RPO (age of the restored backups when the restore began)"))
    if schedule_check:
        findings.append(threshold_finding("dr_rpo_schedule", _round(schedule_rpo), crit=rpo_target_hours * 3600,
                                          unit="s", target=target,
                                          label="scheduled worst-case RPO (backup every %s h plus the longest backup)"
                                          % _fmt(backup_interval_hours)))
    return {
        "rto_seconds": None if rto is None else round(rto, 3),
        "rpo_seconds": None if rpo is None else round(rpo, 3),
        "schedule_rpo_seconds": None if schedule_rpo is None else round(schedule_rpo, 3),
        "targets": {"rto_hours": rto_target_hours, "rpo_hours": rpo_target_hours,
                    "backup_interval_hours": backup_interval_hours},
        "findings": findings,
    }


def _round(value):
    return None if value is None else round(value, 3)


def _fmt(number):
    return ("%.2f" % number).rstrip("0").rstrip(".")


def _seconds(value):
    if value is None:
        return "-"
    if value < 120:
        return "%.2f s" % value
    if value < 7200:
        return "%.1f min" % (value / 60.0)
    return "%.2f h" % (value / 3600.0)


def _esc(text):
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"))


def timeline_svg(steps, title, colours=None):
    """A Gantt-style SVG of the timed steps (one bar per step, coloured by status: ``colours`` or the findings')."""
    colours = colours or _COLOURS
    timed = [s for s in steps if s["started"] is not None and s["finished"] is not None]
    left, bar_h, gap, width = 260, 22, 8, 900
    height = 70 + len(timed) * (bar_h + gap) + 40
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
             'font-size="12">' % (left + width + 40, height),
             '<title>%s</title>' % _esc(title),
             '<text x="10" y="22" font-size="16" font-weight="bold">%s - timeline</text>' % _esc(title)]
    if not timed:
        parts.append('<text x="10" y="60">no timed steps</text></svg>')
        return "\n".join(parts) + "\n"
    t0 = min(s["started"] for s in timed)
    span = max(max(s["finished"] for s in timed) - t0, 0.001)
    scale = width / span
    axis_y = 50 + len(timed) * (bar_h + gap) + 10
    for tick in range(6):
        x = left + width * tick / 5.0
        parts.append('<line x1="%.1f" y1="45" x2="%.1f" y2="%d" stroke="#ddd"/>' % (x, x, axis_y))
        parts.append('<text x="%.1f" y="%d" text-anchor="middle">+%s</text>' % (x, axis_y + 15,
                                                                                _esc(_seconds(span * tick / 5.0))))
    for index, step in enumerate(timed):
        y = 50 + index * (bar_h + gap)
        x = left + (step["started"] - t0) * scale
        w = max((step["finished"] - step["started"]) * scale, 2)
        colour = colours.get(step["status"], "#757575")
        parts.append('<text x="10" y="%d">%s</text>' % (y + 15, _esc("%s - %s" % (step["phase"], step["name"]))))
        parts.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %s, %s</title></rect>' % (
            x, y, w, bar_h, colour, _esc(step["name"]), _esc(step["status"]), _esc(_seconds(step["duration"]))))
        parts.append('<text x="%.1f" y="%d">%s</text>' % (min(x + w + 4, left + width - 40), y + 15,
                                                          _esc(_seconds(step["duration"]))))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def markdown(title, steps, assessment, svg_name, generated):
    lines = ["# %s" % title, "", "Generated %s UTC by opsbook." % backup_common.iso(generated), ""]
    status = overall(assessment["findings"])
    lines += ["**Overall: %s**" % status.upper(), "", "| Check | Status | Value | Message |",
              "| --- | --- | --- | --- |"]
    for f in sorted(assessment["findings"], key=lambda f: -severity(f["status"])):
        value = "-" if f["value"] is None else "%s %s" % (f["value"], f.get("unit") or "")
        lines.append("| %s | %s | %s | %s |" % (f["check"], f["status"], value.strip(), f["message"].replace("|", "/")))
    targets = assessment["targets"]
    downtime = any(s["phase"] in ("stop", "start") for s in steps)
    lines += ["", "## Recovery objectives", "",
              "| | achieved | target |", "| --- | --- | --- |",
              "| RTO (%s) | %s | %s h |" % (
                  "apps stopped until recovery verified" if downtime else "restore + verify, all components",
                  _seconds(assessment["rto_seconds"]), _fmt(targets["rto_hours"])),
              "| RPO (age of restored backups at restore start) | %s | %s h |" % (
                  _seconds(assessment["rpo_seconds"]), _fmt(targets["rpo_hours"]))]
    if assessment["schedule_rpo_seconds"] is not None:
        lines.append("| RPO worst case for the schedule (every %s h + longest backup) | %s | %s h |" % (
            _fmt(targets["backup_interval_hours"]), _seconds(assessment["schedule_rpo_seconds"]),
            _fmt(targets["rpo_hours"])))
    lines += ["", "## Timeline", "", "![timeline](%s)" % svg_name, "",
              "| # | Phase | Step | Status | Start | Duration | Note |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for index, step in enumerate(steps, 1):
        start = backup_common.iso(step["started"]) if step["started"] else "-"
        lines.append("| %d | %s | %s | %s | %s | %s | %s |" % (index, step["phase"], step["name"], step["status"], start,
                                                               _seconds(step["duration"]),
                                                               (step["message"] or "").replace("|", "/")))
    lines.append("")
    return "\n".join(lines)


def write_report(params, check_mode=False):
    steps = [s for s in (step_from_result(step) for step in params["steps"]) if s]
    if not steps:
        raise InvalidInput("steps: no step ran (all were skipped): nothing to report")
    if not _REPORT_NAME_RE.match(params.get("report_name") or ""):
        raise InvalidInput("report_name: %r - use letters, digits, '-', '_' and '.'" % params.get("report_name"))
    assessment = assess(steps, params["rto_target_hours"], params["rpo_target_hours"], params["backup_interval_hours"],
                        target=params.get("report_name") or "dr-rehearsal",
                        schedule_check=params.get("schedule_check", True))
    if check_mode:
        return dict(assessment, steps=steps, report={}, changed=True)
    report_dir = backup_common.ensure_location(params["report_dir"])
    generated = time.time()
    base = "%s-%s" % (params.get("report_name") or "dr-rehearsal", backup_common.utc_stamp(generated))
    paths = {"markdown": os.path.join(report_dir, base + ".md"), "svg": os.path.join(report_dir, base + ".svg"),
             "json": os.path.join(report_dir, base + ".json")}
    backup_common.write_atomic(paths["svg"], timeline_svg(steps, params["title"]), mode=0o644)
    backup_common.write_atomic(paths["markdown"], markdown(params["title"], steps, assessment,
                                                           os.path.basename(paths["svg"]), generated), mode=0o644)
    data = dict(assessment, steps=steps, title=params["title"], generated=backup_common.iso(generated))
    backup_common.write_atomic(paths["json"], json.dumps(data, indent=2, sort_keys=True) + "\n", mode=0o644)
    return dict(assessment, steps=steps, report=paths, changed=True)
