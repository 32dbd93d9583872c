# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The incident record: one JSON file per incident, its states and its times.

A record lives at ``<state_dir>/<key>.json``, keyed by the alert's fingerprint (or scenario and target
when no alert started the run), written atomically (temporary file, fsync, rename) under an ``flock``.
Its ``state`` goes ``declared`` -> ``updated`` (any number of times) -> ``resolved``; every change is an
``event`` whose messages are sent once.  A run already in the record (same scenario and ``started``) is
not applied again, so re-running with the same input changes nothing and sends nothing.

When the alert behind an incident clears (Alertmanager's ``resolved``), :func:`apply_alert_cleared`
dates it in ``alert_cleared_at``; the state does not follow, because only a verified run resolves an
incident (an alert that clears by itself leaves an open incident open, and says so).

MTTD: the alert's ``startsAt`` to the first run's start.  MTTR: the incident's start (the alert's
``startsAt``, else the first run's start) to the end of the run whose outcome was ``resolved`` or
``healthy`` (a verified resolution).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

from ansible_collections.opsbook.runbooks.plugins.module_utils.backup.common import write_atomic
from ansible_collections.opsbook.runbooks.plugins.module_utils.common import state, times
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput, OpsbookError
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.outcome import HEALTHY, RESOLVED as OUTCOME_RESOLVED
from ansible_collections.opsbook.runbooks.plugins.module_utils.incident.policy import more_urgent

SCHEMA = "opsbook.incident/v1"
DECLARED = "declared"
UPDATED = "updated"
RESOLVED = "resolved"
STATES = (DECLARED, UPDATED, RESOLVED)
GOOD_OUTCOMES = (OUTCOME_RESOLVED, HEALTHY)
_KEY_RE = re.compile(r"[^A-Za-z0-9_.-]+")


class RecordError(OpsbookError):
    """The incident record could not be read or written."""


def default_state_dir(env=None):
    """``$OPSBOOK_STATE_DIR/incidents``, else ``$XDG_STATE_HOME/opsbook/incidents`` (``~/.local/state``)."""
    return state.default_state_dir("incidents", env)


def incident_key(alert, scenario, target):
    """The record's key: the alert's fingerprint, else ``<scenario>-<target>``, safe as a file name."""
    fingerprint = (alert or {}).get("fingerprint")
    raw = str(fingerprint) if fingerprint else "%s-%s" % (scenario or "incident", target or "all")
    key = _KEY_RE.sub("_", raw).strip("._")
    if not key:
        raise InvalidInput("alert.fingerprint: %r gives an empty incident key" % (fingerprint,))
    return key[:128]


def record_path(state_dir, key):
    return os.path.join(state_dir, key + ".json")


def load(path):
    """The record at ``path``, or None when there is none."""
    return state.load_record(path, SCHEMA, RecordError, "incident record")


def locked(state_dir, wait=30):
    """``with locked(state_dir):`` one writer of the state directory at a time (``flock``, 30 s)."""
    return state.locked_dir(state_dir, "another opsbook incident run holds %s (waited %ss)" % (state_dir, wait),
                            RecordError, wait)


def save(path, record):
    write_atomic(path, json.dumps(record, indent=2, sort_keys=True) + "\n", mode=0o600)


def archive(path, record):
    """Keep a closed record under ``<key>-<declared>.json`` before the same key opens a new incident."""
    stamp = re.sub(r"[^0-9TZ]", "", record.get("declared_at") or "") or "old"
    save(path[:-len(".json")] + "-" + stamp + ".json", record)


def run_summary(report):
    """What the record keeps of a v2 report: ``{scenario, started, duration, ended, outcome, ...}``."""
    if not isinstance(report, dict) or not report.get("started"):
        raise InvalidInput("report: expected an opsbook v2 report (opsbook run --json), got %s" % (
            "a dict without 'started'" if isinstance(report, dict) else type(report).__name__))
    started = times.epoch(report["started"], "report.started")
    duration = float(report.get("duration") or 0)
    # "started" has whole seconds: the last task's own time may be later than started + duration
    steps = [times.epoch(step["time"]) for step in report.get("timeline") or [] if isinstance(step, dict) and step.get("time")]
    return {"scenario": report.get("scenario"), "started": report["started"], "duration": duration,
            "ended": times.iso(max([started + duration] + steps)), "outcome": report.get("outcome"),
            "initial_status": report.get("initial_status"), "status": report.get("status"),
            "exit_code": report.get("exit_code"), "remediate": bool(report.get("remediate")),
            "hosts": list(report.get("hosts") or [])}


def already_applied(record, run):
    return any(r["started"] == run["started"] and r["scenario"] == run["scenario"] for r in record["runs"])


def reopens(record, run):
    """Whether a new run opens a new incident under a resolved record's key (a problem again, not seen yet)."""
    return (record is not None and record["state"] == RESOLVED and not already_applied(record, run)
            and run["outcome"] not in GOOD_OUTCOMES)


def minutes_between(start, end):
    return round(max(0.0, times.epoch(end) - times.epoch(start)) / 60.0, 2)


def new_record(key, alert, run, target, title):
    alert = alert or {}
    labels = alert.get("labels") or {}
    started = alert.get("startsAt") or run["started"]
    return {"schema": SCHEMA, "id": key, "fingerprint": alert.get("fingerprint"), "alertname": labels.get("alertname"),
            "scenario": run["scenario"], "target": target, "title": title, "state": None, "priority": None,
            "priority_reason": None, "started": times.iso(times.epoch(started, "alert.startsAt")),
            "declared_at": None, "updated_at": None, "resolved_at": None,
            "mttd_minutes": minutes_between(started, run["started"]) if alert.get("startsAt") else None,
            "mttr_minutes": None, "escalation": None, "outcome": None, "alert_cleared_at": None,
            "runs": [], "timeline": [], "events": []}


def apply_alert_cleared(record, alert, now):
    """Date the clearing of ``record``'s alert (its ``endsAt``, else ``now``); False when already recorded."""
    cleared = times.iso(times.epoch(alert.get("endsAt") or now, "alert.endsAt"))
    if record.get("alert_cleared_at") == cleared:
        return False
    record["alert_cleared_at"] = cleared
    return True


def apply_run(record, run, timeline, priority, escalation, now, alert_present):
    """Apply one run to ``record`` (changed in place) and return the new events (state changes), oldest first.

    A new record (``state`` None) is declared unless the run is healthy and no alert started it (a
    resolved run, or a healthy one after an alert, is declared and resolved at once); an open one is updated or resolved.  A
    resolved record takes no run (see :func:`reopens`); a run already applied returns no event.
    """
    if record["state"] == RESOLVED or already_applied(record, run):
        return []
    good = run["outcome"] in GOOD_OUTCOMES
    states = []
    if record["state"] is None:
        if run["outcome"] == HEALTHY and not alert_present:  # nothing was wrong and nothing said so
            return []
        states.append(DECLARED)
        if good:
            states.append(RESOLVED)
    else:
        states.append(RESOLVED if good else UPDATED)
    record["runs"].append(run)
    record["timeline"].extend(timeline or [])
    # an open incident's priority never drops on an update: the most urgent seen so far
    record["priority"] = priority["priority"] if record["state"] is None else more_urgent(record["priority"], priority["priority"])
    if record["priority"] == priority["priority"]:
        record["priority_reason"] = priority["reason"]
    record["escalation"] = escalation
    record["outcome"] = run["outcome"]
    events = []
    for state in states:
        if state == DECLARED:
            record["declared_at"] = now
        elif state == UPDATED:
            record["updated_at"] = now
        else:
            record["resolved_at"] = run["ended"]
            record["mttr_minutes"] = minutes_between(record["started"], run["ended"])
        record["state"] = state
        event = {"seq": len(record["events"]) + 1, "state": state, "at": now, "priority": record["priority"],
                 "level": (escalation or {}).get("level"), "outcome": run["outcome"], "run": run["started"],
                 "notified": {}}
        record["events"].append(event)
        events.append(event)
    return events
