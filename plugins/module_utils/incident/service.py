# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The incident module's work: classify, escalate, record, render, notify; one function per step.

:func:`handle` is what M(opsbook.runbooks.incident) runs: under the state directory's lock it loads
the record, applies the run, renders one message per new state, sends each once (not in check mode)
and writes the record back (not in check mode).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import copy
import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.common import findings as fv
from ansible_collections.opsbook.runbooks.plugins.module_utils.common import times
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.outcome import is_verdict
from ansible_collections.opsbook.runbooks.plugins.module_utils.incident import notify, policy, record as rec, render

PRIORITY_NAMES = {"P1": "Crítico", "P2": "Alto", "P3": "Médio", "P4": "Baixo"}
STATE_WORDS = {rec.DECLARED: "Investigating", rec.UPDATED: "Identified", rec.RESOLVED: "Resolved"}


def target_of(params, alert, report):
    labels = (alert or {}).get("labels") or {}
    return params.get("target") or labels.get("instance") or labels.get("service") or ", ".join(report.get("hosts") or []) or "all"


def merged_timeline(record, alert_name):
    """Every dated step of the incident, oldest first: alert, runs and their tasks, state changes."""
    entries = []
    if record.get("alertname"):
        entries.append({"time": record["started"], "what": "Alert disparado: %s" % alert_name})
    for run in record["runs"]:
        entries.append({"time": run["started"], "what": "opsbook run %s started (%s)" % (
            run["scenario"], "remediation allowed" if run["remediate"] else "diagnose-only")})
        entries.append({"time": run["ended"], "what": "opsbook run %s ended: outcome %s, status %s" % (
            run["scenario"], run["outcome"], run["status"])})
    for step in record["timeline"]:
        entries.append({"time": step["time"], "what": "%s on %s: %s" % (step.get("task"), step.get("host"), step.get("result"))})
    if record.get("alert_cleared_at"):
        entries.append({"time": record["alert_cleared_at"], "what": "Alert resolvido: %s" % alert_name})
    for event in record["events"]:
        entries.append({"time": event["at"], "what": "incident %s (%s%s)" % (
            event["state"], event["priority"], ", %s" % event["level"] if event.get("level") else "")})
    return sorted(entries, key=lambda e: times.epoch(e["time"]))


def context(record, report, alert, event, params):
    """The variables every template sees."""
    findings = [f for f in report.get("findings") or [] if isinstance(f, dict)]
    problems = [f for f in findings if is_verdict(f) and f.get("status") != fv.OK and f.get("phase", "diagnose") == "diagnose"]
    verification = [f for f in findings if f.get("phase") == "verify"]
    escalation = record.get("escalation") or {}
    labels = (alert or {}).get("labels") or {}
    title = record["title"]
    return {
        "incident": record, "event": event or {}, "report": {k: report.get(k) for k in (
            "scenario", "started", "duration", "outcome", "initial_status", "status", "hosts", "remediate")},
        "alert": alert or {}, "labels": labels, "annotations": (alert or {}).get("annotations") or {},
        "title": title, "priority": record["priority"], "priority_name": PRIORITY_NAMES.get(record["priority"], ""),
        "status_word": STATE_WORDS.get((event or {}).get("state") or record["state"], ""),
        "escalation": escalation, "commander": params.get("commander") or (escalation.get("contacts") or ["on-call"])[0],
        "affected": ", ".join([record["target"]] + [h for h in report.get("hosts") or [] if h != record["target"]]),
        "problems": problems, "actions": list(report.get("actions") or []), "verification": verification,
        "timeline": merged_timeline(record, labels.get("alertname") or record.get("alertname")),
        "mttd_target_minutes": params["mttd_target_minutes"], "mttr_target_minutes": params["mttr_target_minutes"],
        "update_every_minutes": params["update_every_minutes"],
    }


def measures(record, params):
    """``incident_mttd`` (when an alert dated the start) and ``incident_mttr`` (once resolved), ``state: measured``."""
    found = []
    if record.get("mttd_minutes") is not None:
        found.append(times.minutes_finding("incident_mttd", record["started"], record["runs"][0]["started"],
                                           params["mttd_target_minutes"], record["target"],
                                           "time to detection (MTTD) of %s" % record["title"], phase="diagnose"))
    if record["state"] == rec.RESOLVED and record.get("resolved_at"):
        found.append(times.minutes_finding("incident_mttr", record["started"], record["resolved_at"],
                                           params["mttr_target_minutes"], record["target"],
                                           "time to recovery (MTTR) of %s" % record["title"]))
    return found


def incident_finding(record, changed_states):
    if record is None:
        return fv.make_finding("incident", fv.OK, "no incident: the run found nothing wrong and no alert started it",
                               state="none")
    if record["state"] == rec.RESOLVED:
        status = fv.OK
    else:
        status = fv.CRITICAL if record["priority"] in ("P1", "P2") else fv.WARNING
    what = " -> ".join(changed_states) if changed_states else "%s, unchanged" % record["state"]
    level = (record.get("escalation") or {}).get("level")
    contacts = ", ".join((record.get("escalation") or {}).get("contacts") or [])
    message = "%s incident %s: %s%s" % (record["priority"], record["title"], what,
                                        " (escalation %s: %s)" % (level, contacts) if level else "")
    return fv.make_finding("incident", status, message, state=record["state"], target=record["target"])


def deliver(channels, text, subject, check_mode):
    """``({channel: result}, [finding])``: send ``text`` to each configured channel once."""
    results, found = {}, []
    for name, config in channels:
        if check_mode:
            results[name] = "check_mode"
            continue
        try:
            if name == "webhook":
                notify.webhook(config, text)
            else:
                notify.email(config, subject, text)
            results[name] = "sent"
        except notify.NotifyError as exc:
            results[name] = "failed"
            found.append(fv.make_finding("incident_notify", fv.WARNING, "could not notify the incident: %s" % exc,
                                         target=name, state="failed"))
    return results, found


def channels_of(notifications):
    notifications = notifications or {}
    out = []
    if (notifications.get("webhook") or {}).get("url"):
        out.append(("webhook", notifications["webhook"]))
    email = notifications.get("email") or {}
    if email.get("host") and email.get("to"):
        out.append(("email", email))
    return out


def handle(params, check_mode=False, now=None):
    """The module's result: ``{changed, incident, record_path, messages, postmortem, findings}``."""
    report, alert = params["report"], params.get("alert") or None
    run = rec.run_summary(report)
    target = target_of(params, alert, report)
    labels = (alert or {}).get("labels") or {}
    title = params.get("title") or "%s on %s" % (labels.get("alertname") or run["scenario"], target)
    priority = policy.classify(report.get("findings"), alert, run["scenario"], params.get("severity_matrix"),
                               params.get("alert_severity"))
    policy.check_escalation(params.get("escalation"))  # bad input fails before anything is written
    templates = render.load_templates(params.get("template_path"), params.get("templates"))
    state_dir = params.get("state_dir") or rec.default_state_dir()
    key = rec.incident_key(alert, run["scenario"], target)
    path = rec.record_path(state_dir, key)
    now = now if now is not None else time.time()
    stamp = times.iso(now)
    # check mode reads (records are replaced atomically) and creates nothing, not even the directory
    with contextlib.nullcontext() if check_mode else rec.locked(state_dir):
        stored = rec.load(path)
        reopened = rec.reopens(stored, run)
        record = copy.deepcopy(stored) if stored is not None and not reopened else rec.new_record(key, alert, run, target, title)
        elapsed_end = times.epoch(run["ended"]) if run["outcome"] in rec.GOOD_OUTCOMES else now
        escalation = policy.escalate(params.get("escalation"), more_urgent_of(record, priority),
                                     elapsed_end - times.epoch(record["started"]))
        events = rec.apply_run(record, run, report.get("timeline"), priority, escalation, stamp, alert is not None)
        messages, found = [], []
        for event in events:
            name = render.FOR_STATE[event["state"]]
            text = render.render(templates[name], context(record, report, alert, event, params), name)
            subject = text.strip().splitlines()[0] if text.strip() else title
            event["notified"], failures = deliver(channels_of(params.get("notifications")), text, subject, check_mode)
            found.extend(failures)
            messages.append({"state": event["state"], "seq": event["seq"], "text": text, "notified": event["notified"]})
        changed = bool(events)
        if changed and not check_mode:
            if reopened:
                rec.archive(path, stored)
            rec.save(path, record)
    shown = record if (events or stored is not None) else None
    postmortem = render.render(templates["postmortem"], context(shown, report, alert, None, params), "postmortem") if shown else ""
    findings = [incident_finding(shown, [e["state"] for e in events])] + (measures(shown, params) if shown else []) + found
    return {"changed": changed, "incident": shown, "record_path": path if shown else None, "messages": messages,
            "postmortem": postmortem, "findings": findings, "status": fv.overall(findings)}


def run(params, check_mode=False, now=None):
    """What the module does: a run's report applied (:func:`handle`), or a resolved alert dated (:func:`cleared`)."""
    if params.get("report") is not None:
        return handle(params, check_mode, now)
    alert = params.get("alert") or {}
    if alert.get("status") != "resolved":
        raise InvalidInput("report: required, unless alert is a resolved Alertmanager alert (alert.status %r)"
                           % (alert.get("status"),))
    return cleared(params, alert, check_mode, now)


def cleared(params, alert, check_mode=False, now=None):
    """The module's result for a resolved alert: its incident (by fingerprint) gets ``alert_cleared_at``.

    No message is sent and the state stays: an incident a verified run resolved says so, an open one
    is a warning that the alert cleared without a verified fix.
    """
    if not alert.get("fingerprint"):
        raise InvalidInput("alert.fingerprint: a resolved alert finds its incident by fingerprint; none given")
    name = (alert.get("labels") or {}).get("alertname") or alert["fingerprint"]
    state_dir = params.get("state_dir") or rec.default_state_dir()
    path = rec.record_path(state_dir, rec.incident_key(alert, None, None))
    stamp = times.iso(now if now is not None else time.time())
    with contextlib.nullcontext() if check_mode else rec.locked(state_dir):
        stored = rec.load(path)
        record = copy.deepcopy(stored) if stored is not None else None
        changed = record is not None and rec.apply_alert_cleared(record, alert, stamp)
        if changed and not check_mode:
            rec.save(path, record)
    if record is None:
        finding = fv.make_finding("incident", fv.OK, "alert %s cleared; no incident was recorded for it" % name,
                                  state="none")
    elif record["state"] == rec.RESOLVED:
        finding = fv.make_finding("incident", fv.OK, "alert %s cleared at %s; the incident was resolved by a verified fix"
                                  % (name, record["alert_cleared_at"]), state=record["state"], target=record["target"])
    else:
        finding = fv.make_finding("incident", fv.WARNING, "alert %s cleared at %s, but no verified fix resolved the "
                                  "incident (%s): verify and resolve it" % (name, record["alert_cleared_at"], record["state"]),
                                  state=record["state"], target=record["target"])
    return {"changed": changed, "incident": record, "record_path": path if record is not None else None,
            "messages": [], "postmortem": "", "findings": [finding], "status": fv.overall([finding])}


def more_urgent_of(record, priority):
    """The priority escalation follows: an open incident keeps its most urgent priority."""
    if record.get("state") in (rec.DECLARED, rec.UPDATED):
        return policy.more_urgent(record.get("priority"), priority["priority"])
    return priority["priority"]
