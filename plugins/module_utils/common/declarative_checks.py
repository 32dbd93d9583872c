# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative checks ``{name, <body>, warn, crit, direction, unit, strict, description}``.

Shared by ``sql_checks`` (the body is ``sql``) and ``prometheus_query`` (the body is
``query``): validating the list the user wrote, and turning a measured value into a
finding. ``strict`` follows the runbooks' wording: "> 100" means exactly 100 is fine.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    ABOVE,
    CRITICAL,
    DIRECTIONS,
    OK,
    UNKNOWN,
    WARNING,
    FindingError,
    evaluate,
    make_finding,
    threshold_finding,
)

COMMON_KEYS = ("name", "warn", "crit", "direction", "unit", "strict", "description")


def threshold_options():
    """The argument spec suboptions every declarative check shares (``name`` and the body are the module's)."""
    return dict(
        warn=dict(type="float"),
        crit=dict(type="float"),
        direction=dict(type="str", choices=["above", "below"], default="above"),
        strict=dict(type="bool", default=False),
        unit=dict(type="str"),
        description=dict(type="str"),
    )


def _number_or_none(check, key, option):
    value = check.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidInput("%s[%s].%s must be a number, got a boolean" % (option, check.get("name"), key))
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidInput("%s[%s].%s must be a number, got %r" % (option, check.get("name"), key, value))


def validate(checks, body, extra_keys=(), option="checks"):
    """Normalise a list of checks whose text is under ``body``; raise InvalidInput naming the bad entry."""
    keys = COMMON_KEYS + (body,) + tuple(extra_keys)
    if not checks:
        raise InvalidInput("%s must list at least one check" % option)
    seen = set()
    result = []
    for index, check in enumerate(checks):
        if not isinstance(check, dict):
            raise InvalidInput("%s[%d] must be a dict, got %s" % (option, index, type(check).__name__))
        unknown = sorted(set(check) - set(keys))
        if unknown:
            raise InvalidInput("%s[%d] has unknown key(s) %s; expected %s"
                               % (option, index, ", ".join(unknown), ", ".join(keys)))
        name = check.get("name")
        if not name or not check.get(body):
            raise InvalidInput("%s[%d] needs a name and an %s" % (option, index, body))
        if name in seen:
            raise InvalidInput("%s: the name %r is used twice" % (option, name))
        seen.add(name)
        direction = check.get("direction") or ABOVE
        if direction not in DIRECTIONS:
            raise InvalidInput("%s[%s].direction must be one of %s, got %r"
                               % (option, name, ", ".join(DIRECTIONS), direction))
        norm = dict(check, direction=direction, warn=_number_or_none(check, "warn", option),
                    crit=_number_or_none(check, "crit", option), strict=bool(check.get("strict")))
        try:
            evaluate(0, norm["warn"], norm["crit"], direction)
        except FindingError as exc:
            raise InvalidInput("%s[%s]: %s" % (option, name, exc))
        result.append(norm)
    return result


def strict_status(value, warn, crit, direction):
    """Like findings.evaluate, but a value equal to a threshold is still fine (``> 100``, ``< 98``)."""
    if value is None:
        return UNKNOWN
    worse = (lambda v, t: v > t) if direction == ABOVE else (lambda v, t: v < t)
    if crit is not None and worse(value, crit):
        return CRITICAL
    if warn is not None and worse(value, warn):
        return WARNING
    return OK


def _plain(number):
    return ("%.2f" % number).rstrip("0").rstrip(".") if isinstance(number, float) else str(number)


def _strict_finding(check, value, target, label):
    status = strict_status(value, check["warn"], check["crit"], check["direction"])
    unit = check.get("unit")
    shown = "%s%s" % (value, (" " + unit) if unit and unit != "%" else (unit or ""))
    rel = "more than" if check["direction"] == ABOVE else "less than"
    if status == UNKNOWN:
        message = "%s could not be measured" % label
    elif status == OK:
        bound = check["warn"] if check["warn"] is not None else check["crit"]
        message = "%s is %s" % (label, shown) + ("" if bound is None else " (not %s %s)" % (rel, _plain(bound)))
    else:
        limit = check["crit"] if status == CRITICAL else check["warn"]
        message = "%s is %s, %s the %s threshold of %s" % (label, shown, rel, status, _plain(limit))
    threshold = {"warn": check["warn"], "crit": check["crit"], "direction": check["direction"], "strict": True}
    return make_finding(check["name"], status, message, value=value, threshold=threshold, unit=unit, target=target)


def finding_for(check, value, target, label=None):
    """The finding for one measured ``value`` of a validated check."""
    label = label or check.get("description") or check["name"]
    if check["strict"]:
        return _strict_finding(check, value, target, label)
    return threshold_finding(check["name"], value, warn=check["warn"], crit=check["crit"],
                             direction=check["direction"], unit=check.get("unit"), target=target, label=label)
