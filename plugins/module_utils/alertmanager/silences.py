# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Alertmanager silences, idempotently: what ``amtool silence add|query|expire`` does by hand.

A silence is identified by its matchers and comment: an active one with the same is reported
unchanged (or extended when the wanted end is later), never duplicated.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from datetime import datetime, timedelta

from ansible_collections.opsbook.runbooks.plugins.module_utils.alertmanager.common import Alertmanager
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import OK, make_finding

try:
    from datetime import timezone
    UTC = timezone.utc
except ImportError:  # pragma: no cover - Python 2 is not supported
    UTC = None

LIVE_STATES = ("active", "pending")
# A wanted end this much later than the silence's end (or less) leaves it unchanged: a second run
# a few seconds after the first is the same window, not an extension.
EXTEND_MARGIN = timedelta(seconds=60)
_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
_MATCHER = re.compile(r"^\s*(%s)\s*(=~|!~|!=|=)\s*(.*?)\s*$" % _NAME)
_OPERATORS = {"=": (False, True), "!=": (False, False), "=~": (True, True), "!~": (True, False)}
_DURATION = re.compile(r"^(?:(\d+)(ms|[smhdw]))+\Z")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_matcher(matcher, option="matchers"):
    """One matcher as Alertmanager's ``{name, value, isRegex, isEqual}``.

    A dict with those keys, or a string ``name=value``, ``name!=value``, ``name=~regex``,
    ``name!~regex`` (the value may be double-quoted).
    """
    if isinstance(matcher, dict):
        name, value = matcher.get("name"), matcher.get("value")
        if not isinstance(name, str) or not re.match("^%s$" % _NAME, name) or value is None:
            raise InvalidInput("%s: expected {name, value, isRegex, isEqual} with a label name, got %r"
                               % (option, matcher))
        unknown = set(matcher) - set(("name", "value", "isRegex", "isEqual"))
        if unknown:
            raise InvalidInput("%s: unknown key(s) %s in %r (expected name, value, isRegex, isEqual)"
                               % (option, ", ".join(sorted(unknown)), matcher))
        return {"name": name, "value": str(value), "isRegex": _bool(matcher.get("isRegex", False), option),
                "isEqual": _bool(matcher.get("isEqual", True), option)}
    match = _MATCHER.match(str(matcher)) if isinstance(matcher, str) else None
    if not match:
        raise InvalidInput("%s: expected name=value, name!=value, name=~regex or name!~regex, got %r"
                           % (option, matcher))
    name, operator, value = match.groups()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    is_regex, is_equal = _OPERATORS[operator]
    return {"name": name, "value": value, "isRegex": is_regex, "isEqual": is_equal}


def _bool(value, option):
    if isinstance(value, bool):
        return value
    raise InvalidInput("%s: isRegex and isEqual must be true or false, got %r" % (option, value))


def parse_matchers(matchers, option="matchers", required=True):
    """The matchers, parsed and sorted (a canonical form to compare silences by)."""
    parsed = [parse_matcher(m, option) for m in (matchers or [])]
    if required and not parsed:
        raise InvalidInput("%s: at least one matcher is required (for example alertname=APIDown)" % option)
    if required and not any(m["isEqual"] and not (m["isRegex"] and re.match(r"^(\.\*)?$", m["value"]))
                            for m in parsed):
        raise InvalidInput("%s: at least one matcher must select something (= or =~ with a value), got %s"
                           % (option, ", ".join(format_matcher(m) for m in parsed)))
    return canonical(parsed)


def canonical(matchers):
    return sorted(({"name": m["name"], "value": m["value"], "isRegex": bool(m.get("isRegex")),
                    "isEqual": bool(m.get("isEqual", True))} for m in matchers),
                  key=lambda m: (m["name"], m["value"], m["isRegex"], m["isEqual"]))


def format_matcher(matcher):
    operator = [op for op, flags in _OPERATORS.items() if flags == (matcher["isRegex"], matcher["isEqual"])][0]
    return '%s%s"%s"' % (matcher["name"], operator, matcher["value"])


def parse_duration(text, option="duration"):
    """``2h``, ``30m``, ``1h30m``, ``90s``, ``1d`` -> timedelta (positive)."""
    text = str(text).strip()
    if not _DURATION.match(text):
        raise InvalidInput("%s: expected a duration such as 2h, 30m or 1h30m, got %r" % (option, text))
    seconds = sum(int(n) * _UNITS[u] for n, u in re.findall(r"(\d+)(ms|[smhdw])", text))
    if seconds <= 0:
        raise InvalidInput("%s: must be longer than 0, got %r" % (option, text))
    return timedelta(seconds=seconds)


def parse_time(text, option="ends_at"):
    """An RFC 3339 time (``2026-12-01T23:00:00Z``, with offset or fraction) -> aware datetime in UTC."""
    raw = str(text).strip()
    normalized = re.sub(r"[zZ]$", "+00:00", raw)
    normalized = re.sub(r"(\.\d{6})\d+", r"\1", normalized)  # Alertmanager may write nanoseconds
    try:
        value = datetime.fromisoformat(normalized)
    except ValueError:
        raise InvalidInput("%s: expected an RFC 3339 time such as 2026-12-01T23:00:00Z, got %r" % (option, raw))
    if value.tzinfo is None:
        raise InvalidInput("%s: the time needs a time zone (Z or +HH:MM), got %r" % (option, raw))
    return value.astimezone(UTC)


def rfc3339(value):
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def now_utc():
    return datetime.now(UTC)


def summarize(silence):
    """The fields a report needs from Alertmanager's silence."""
    return {
        "id": silence.get("id"),
        "state": (silence.get("status") or {}).get("state"),
        "matchers": canonical(silence.get("matchers") or []),
        "matchers_text": ", ".join(format_matcher(m) for m in canonical(silence.get("matchers") or [])),
        "starts_at": silence.get("startsAt"),
        "ends_at": silence.get("endsAt"),
        "created_by": silence.get("createdBy"),
        "comment": silence.get("comment"),
    }


def live(silences, matchers=None, comment=None):
    """Active or pending silences; with ``matchers`` (canonical) those with exactly them, and ``comment``."""
    found = []
    for silence in silences:
        if (silence.get("status") or {}).get("state") not in LIVE_STATES:
            continue
        if matchers is not None and canonical(silence.get("matchers") or []) != matchers:
            continue
        if comment is not None and silence.get("comment") != comment:
            continue
        found.append(silence)
    return sorted(found, key=lambda s: (s.get("endsAt") or "", s.get("id") or ""))


def wanted_end(params, now):
    if params.get("ends_at"):
        end = parse_time(params["ends_at"])
        if end <= now:
            raise InvalidInput("ends_at: %s is not in the future" % params["ends_at"])
        return end
    return now + parse_duration(params.get("duration") or "2h")


def run(params, check_mode=False, client=None):
    """The module's result for ``state`` present, absent or query (findings, silences, actions)."""
    client = client or Alertmanager(params)
    state = params.get("state") or "present"
    matchers = parse_matchers(params.get("matchers"), required=state != "query") if (
        params.get("matchers") or state != "query") else None
    now = now_utc()
    end = wanted_end(params, now) if state == "present" else None
    if state == "present" and not (params.get("comment") or "").strip():
        raise InvalidInput("comment: required with state=present (Alertmanager needs one; it names the silence)")
    version = client.version()
    silences = client.silences()
    result = {"changed": False, "reachable": True, "alertmanager": {"url": client.target, "version": version},
              "actions": []}
    text = ", ".join(format_matcher(m) for m in matchers) if matchers else "every silence"
    if state == "query":
        found = live(silences, matchers, params.get("comment"))
        result["silences"] = [summarize(s) for s in found]
        message = "%d active silence(s) for %s" % (len(found), text)
    elif state == "present":
        result.update(_present(client, params, matchers, end, silences, text, check_mode))
        message = result.pop("message")
    else:
        result.update(_absent(client, params, matchers, silences, text, check_mode))
        message = result.pop("message")
    result["findings"] = [make_finding("alertmanager_reachable", OK, "Alertmanager %s at %s answered; %s"
                                       % (version or "?", client.target, message), target=client.target)]
    return result


def _action(action, target, changed, check_mode, detail):
    return {"action": action, "target": target, "changed": changed, "dry_run": bool(check_mode), "detail": detail}


def _present(client, params, matchers, end, silences, text, check_mode):
    comment = params["comment"]
    same = live(silences, matchers, comment)
    body = {"matchers": matchers, "startsAt": rfc3339(now_utc()), "endsAt": rfc3339(end),
            "createdBy": params.get("created_by") or "opsbook", "comment": comment}
    if same:
        current = same[-1]  # the one that ends last
        if end <= parse_time(current["endsAt"], "endsAt") + EXTEND_MARGIN:
            return {"silence_id": current["id"], "silences": [summarize(s) for s in same], "silence_state": "unchanged",
                    "message": "silence %s for %s already active until %s" % (current["id"], text, current["endsAt"]),
                    "actions": [_action("silence", text, False, check_mode, "already silenced until %s"
                                        % current["endsAt"])]}
        body.update(id=current["id"], startsAt=current["startsAt"])
        verb, detail = "extended", "extended from %s to %s" % (current["endsAt"], body["endsAt"])
    else:
        verb, detail = "created", "silenced until %s" % body["endsAt"]
    silence_id = None if check_mode else client.post_silence(body)
    if check_mode:
        silence_id = body.get("id")
    else:
        silences = client.silences()
    shown = live(silences, matchers, comment) if not check_mode else ([dict(body, status={"state": "active"})])
    return {"changed": True, "silence_id": silence_id, "silences": [summarize(s) for s in shown],
            "silence_state": verb,
            "message": "silence %s %s for %s%s" % (silence_id or "(check mode)", verb, text,
                                                   " (check mode: nothing changed)" if check_mode else ""),
            "actions": [_action("silence", text, True, check_mode, detail)]}


def _absent(client, params, matchers, silences, text, check_mode):
    found = live(silences, matchers, params.get("comment"))
    if not check_mode:
        for silence in found:
            client.expire_silence(silence["id"])
    ids = [s["id"] for s in found]
    return {"changed": bool(found), "silences": [summarize(s) for s in found], "expired": ids,
            "silence_state": "expired" if found else "absent",
            "message": ("%s silence(s) %s for %s%s" % (len(ids), "would be expired" if check_mode else "expired",
                                                       text, "" if not ids else ": " + ", ".join(ids)))
            if found else "no active silence for %s" % text,
            "actions": [_action("expire_silence", text, bool(found), check_mode,
                                ("expired %s" % ", ".join(ids)) if found else "nothing to expire")]}
