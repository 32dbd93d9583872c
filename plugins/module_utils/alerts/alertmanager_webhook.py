# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Alertmanager's webhook (payload version 4) turned into one event per alert, standard library only.

The collection's Event-Driven Ansible source (``extensions/eda/plugins/event_source/alertmanager.py``)
is only the HTTP server around these functions, so they are unit-tested without aiohttp:

* ``parse_payload`` checks the body (JSON, ``version`` ``"4"``, a list of ``alerts``) and raises
  InvalidInput with a one-line reason otherwise;
* ``alert_events`` makes one event per alert, ``{"alert": {...}, "receiver", "externalURL",
  "meta": {"hosts": [HOST]}}``; ansible-rulebook turns ``meta.hosts`` into the run's ``--limit``,
  so the host is always mapped deliberately (``map_host``): an ``instance`` label missing from
  the mapping gives ``default_host``, never a name the inventory does not have;
* ``Deduper`` drops the same fingerprint and status seen again within a window (Alertmanager
  re-sends firing alerts every ``repeat_interval`` and after restarts);
* ``token_matches`` compares a bearer token in constant time.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac
import json
import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput

PAYLOAD_VERSION = "4"
STATUSES = ("firing", "resolved")
ALERT_KEYS = ("status", "labels", "annotations", "startsAt", "endsAt", "fingerprint", "generatorURL")


def parse_payload(body):
    """The webhook body (bytes or text) as a dict, or InvalidInput naming what is wrong."""
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("the body is not UTF-8 text")
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise InvalidInput("the body is not JSON: %s" % exc)
    if not isinstance(payload, dict):
        raise InvalidInput("expected a JSON object (Alertmanager's webhook payload), got %s" % type(payload).__name__)
    version = payload.get("version")
    if str(version) != PAYLOAD_VERSION:
        raise InvalidInput("unsupported payload version %r (Alertmanager's webhook sends %r)" % (version, PAYLOAD_VERSION))
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise InvalidInput("the payload has no 'alerts' list")
    for index, alert in enumerate(alerts):
        if not isinstance(alert, dict):
            raise InvalidInput("alerts[%d] is not an object" % index)
        if alert.get("status") not in STATUSES:
            raise InvalidInput("alerts[%d].status is %r, expected firing or resolved" % (index, alert.get("status")))
        labels = alert.get("labels")
        if not isinstance(labels, dict) or not labels.get("alertname"):
            raise InvalidInput("alerts[%d] has no labels.alertname" % index)
        if not isinstance(alert.get("annotations", {}), dict):
            raise InvalidInput("alerts[%d].annotations is not an object" % index)
    return payload


def fingerprint(alert):
    """Alertmanager's fingerprint, or (a sender that omits it) a stable digest of the labels."""
    given = alert.get("fingerprint")
    if given:
        return str(given)
    labels = json.dumps(alert.get("labels") or {}, sort_keys=True)
    return hashlib.sha256(labels.encode("utf-8")).hexdigest()[:16]


def map_host(labels, hosts=None, host_label="instance", default_host="all"):
    """The inventory host an alert is about.

    ``hosts`` maps a label value to an inventory host; the value is tried as given
    (``10.0.0.5:9100``) and without its port (``10.0.0.5``). Anything else is ``default_host``.
    """
    hosts = hosts or {}
    value = labels.get(host_label)
    if value is None or value == "":
        return default_host
    value = str(value)
    candidates = [value]
    if value.startswith("["):  # [::1]:9100
        candidates.append(value[1:].split("]", 1)[0])
    elif value.count(":") == 1:
        candidates.append(value.rsplit(":", 1)[0])
    for candidate in candidates:
        if candidate in hosts:
            return hosts[candidate]
    return default_host


def alert_events(payload, hosts=None, host_label="instance", default_host="all"):
    """One event per alert of a parsed payload, in the payload's order."""
    events = []
    for alert in payload["alerts"]:
        body = dict((key, alert.get(key)) for key in ALERT_KEYS)
        body["labels"] = dict(alert.get("labels") or {})
        body["annotations"] = dict(alert.get("annotations") or {})
        body["fingerprint"] = fingerprint(alert)
        events.append({
            "alert": body,
            "receiver": payload.get("receiver"),
            "externalURL": payload.get("externalURL"),
            "meta": {"hosts": [map_host(body["labels"], hosts, host_label, default_host)]},
        })
    return events


class Deduper:
    """``fresh(fingerprint, status)`` is False for a pair already seen within ``window`` seconds."""

    def __init__(self, window, clock=time.monotonic):
        self.window = float(window)
        self.clock = clock
        self.seen = {}

    def fresh(self, key, status):
        if self.window <= 0:
            return True
        now = self.clock()
        self.seen = dict((k, t) for k, t in self.seen.items() if now - t < self.window)
        if (key, status) in self.seen:
            return False
        self.seen[(key, status)] = now
        return True


def token_matches(header, token):
    """Whether an ``Authorization`` header carries ``Bearer <token>`` (constant-time comparison)."""
    if not token:
        return True
    scheme, _sep, given = (header or "").partition(" ")
    if scheme.lower() != "bearer":
        given = ""
    return hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8"))


def check_args(args):
    """The source's arguments with their defaults, or InvalidInput naming the bad one."""
    conf = {
        "host": args.get("host", "127.0.0.1"),
        "port": args.get("port", 15050),
        "path": args.get("path", "/alerts"),
        "token": args.get("token"),
        "token_file": args.get("token_file"),
        "dedup_window": args.get("dedup_window", 300),
        "host_label": args.get("host_label", "instance"),
        "hosts": args.get("hosts") or {},
        "default_host": args.get("default_host", "all"),
    }
    try:
        conf["port"] = int(conf["port"])
        conf["dedup_window"] = float(conf["dedup_window"])
    except (TypeError, ValueError):
        raise InvalidInput("port and dedup_window must be numbers")
    if not 0 < conf["port"] < 65536:
        raise InvalidInput("port must be 1-65535, got %d" % conf["port"])
    if not str(conf["path"]).startswith("/"):
        raise InvalidInput("path must start with /, got %r" % conf["path"])
    if not isinstance(conf["hosts"], dict):
        raise InvalidInput("hosts must be a mapping {label value: inventory host}")
    if conf["token"] and conf["token_file"]:
        raise InvalidInput("give token or token_file, not both")
    if conf["token_file"]:
        try:
            with open(conf["token_file"]) as handle:
                conf["token"] = handle.read().strip()
        except (IOError, OSError) as exc:
            raise InvalidInput("cannot read token_file %s: %s" % (conf["token_file"], exc.strerror))
        if not conf["token"]:
            raise InvalidInput("token_file %s is empty" % conf["token_file"])
    return conf
