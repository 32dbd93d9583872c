# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Payment saga compensation (Techbra runbook §3).

Reads the failure events (``PaymentFailed`` in ``billing.events``) and the
compensation events (inventory released, in ``inventory.events``) with
:mod:`kafka_messages` (no offsets committed), and classifies every failed order:

- ``compensated``: a compensation followed the failure within ``window`` seconds;
- ``recovered``: a later success event (``PaymentSucceeded``) exists for the order;
- ``late``: compensated, but after the window;
- ``pending``: no compensation yet, but the failure is younger than the window;
- ``stuck``: no compensation and no success, and the window has passed.

With ``remediate``, the retry endpoint is called once per stuck order with an
idempotency key derived from the failure event (so a re-run sends the same key),
then the topics are read again until the orders resolve or ``recheck_timeout`` ends.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

from ansible.module_utils.urls import open_url

from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import common as kafka_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import messages as kafka_messages
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput, MissingDependency, scrub
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    CRITICAL,
    OK,
    WARNING,
    make_action,
    make_finding,
)

try:
    import jmespath

    HAS_JMESPATH = True
    JMESPATH_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised by ansible-test sanity
    HAS_JMESPATH = False
    JMESPATH_IMPORT_ERROR = exc

CLASSES = ("stuck", "late", "pending", "compensated", "recovered")


def _compile(params, option):
    if not HAS_JMESPATH:
        raise MissingDependency("jmespath", JMESPATH_IMPORT_ERROR)
    try:
        return jmespath.compile(params[option])
    except jmespath.exceptions.JMESPathError as exc:
        raise InvalidInput("%s: %r is not a valid JMESPath expression (%s)" % (option, params[option], exc))


def validate_options(params):
    for option in ("failure_filter", "compensation_filter", "success_filter", "order_id_path"):
        if params.get(option):
            _compile(params, option)
    if params.get("window") is None or params["window"] < 0:
        raise InvalidInput("window: expected seconds (0 or more), got %s" % params.get("window"))
    url = params.get("retry_url") or ""
    if params.get("remediate"):
        if not url:
            raise InvalidInput("retry_url: required with remediate, e.g. http://billing:8082/api/payments/{order_id}/retry")
        if "{order_id}" not in url:
            raise InvalidInput("retry_url: must contain {order_id}, got %r" % url)
        if not url.startswith(("http://", "https://")):
            raise InvalidInput("retry_url: expected an http:// or https:// URL, got %r" % url)


def order_id(record, path):
    """The order id of an event (JMESPath on the JSON value; falls back to the key)."""
    if record.get("json") is not None:
        found = path.search(record["json"])
        if found not in (None, ""):
            return str(found)
    return record.get("key")


def classify(failures, compensations, successes, window_ms, now_ms):
    """Classify failed orders. Inputs are [(order_id, timestamp_ms, record)] lists.

    The latest failure of an order counts; returns {class: [entry]} with entries
    ``{order_id, failed_at, compensated_at, event}``.
    """
    latest = {}
    for oid, ts, record in failures:
        if oid is not None and (oid not in latest or ts >= latest[oid][0]):
            latest[oid] = (ts, record)
    result = dict((name, []) for name in CLASSES)
    for oid in sorted(latest):
        failed_at, record = latest[oid]
        comp = sorted(ts for o, ts, dummy in compensations if o == oid and ts >= failed_at)
        success = [ts for o, ts, dummy in successes if o == oid and ts >= failed_at]
        entry = {
            "order_id": oid,
            "failed_at": failed_at,
            "compensated_at": comp[0] if comp else None,
            "event": {"topic": record["topic"], "partition": record["partition"], "offset": record["offset"]},
        }
        if success:
            result["recovered"].append(entry)
        elif comp and comp[0] <= failed_at + window_ms:
            result["compensated"].append(entry)
        elif comp:
            result["late"].append(entry)
        elif now_ms < failed_at + window_ms:
            result["pending"].append(entry)
        else:
            result["stuck"].append(entry)
    return result


def idempotency_key(entry):
    """Stable per failure event, so re-running the retry sends the same key."""
    event = entry["event"]
    return "opsbook-saga-%s-%s-%d-%d" % (entry["order_id"], event["topic"], event["partition"], event["offset"])


def _read(params, topic, expression_option):
    args = dict(params, topic=topic, start="beginning", count=params["max_messages"], timeout=params["read_timeout"],
                regex=None, jmespath=params[expression_option], partitions=None)
    return kafka_messages.read_messages(args)


def _events(read, path):
    return [(order_id(r, path), r["timestamp"] or 0, r) for r in read["messages"]]


def scan(params):
    """Read both topics and classify; returns (classes, read counts, complete)."""
    path = _compile(params, "order_id_path")
    failed = _read(params, params["failure_topic"], "failure_filter")
    compensated = _read(params, params["compensation_topic"], "compensation_filter")
    succeeded = _read(params, params["failure_topic"], "success_filter") if params.get("success_filter") else None
    classes = classify(
        _events(failed, path), _events(compensated, path), _events(succeeded, path) if succeeded else [],
        int(params["window"] * 1000), int(time.time() * 1000),
    )
    reads = {"failures_read": failed["read"], "failures": failed["matched"],
             "compensations": compensated["matched"], "successes": succeeded["matched"] if succeeded else 0}
    complete = failed["complete"] and compensated["complete"] and (succeeded is None or succeeded["complete"])
    return classes, reads, complete


def _orders(entries, limit=10):
    names = [e["order_id"] for e in entries]
    return ", ".join(names[:limit]) + (" and %d more" % (len(names) - limit) if len(names) > limit else "")


def scan_findings(classes, params, complete, check="payment_saga_stuck_orders"):
    target = "%s -> %s" % (params["failure_topic"], params["compensation_topic"])
    stuck = classes["stuck"]
    findings = [make_finding(
        check, CRITICAL if stuck else OK,
        ("%d order(s) have a PaymentFailed event and no compensation within %ss: %s"
         % (len(stuck), params["window"], _orders(stuck))) if stuck
        else "every failed payment was compensated or recovered (%d compensated, %d recovered, %d pending, %d late)"
        % tuple(len(classes[c]) for c in ("compensated", "recovered", "pending", "late")),
        value=len(stuck), threshold={"warn": None, "crit": 1, "direction": "above"}, unit="orders", target=target,
    )]
    if classes["late"]:
        findings.append(make_finding(
            "payment_saga_late_compensation", WARNING,
            "%d order(s) were compensated later than %ss: %s" % (len(classes["late"]), params["window"],
                                                                 _orders(classes["late"])),
            value=len(classes["late"]), unit="orders", target=target))
    if not complete:
        findings.append(make_finding(
            "payment_saga_read_complete", WARNING,
            "the topics could not be read completely within %ss (or hold more than %d messages): the result is partial"
            % (params["read_timeout"], params["max_messages"]), target=target))
    return findings


def retry(entry, params, check_mode):
    """POST the retry endpoint for one order; returns (action, finding or None)."""
    url = params["retry_url"].replace("{order_id}", entry["order_id"])
    key = idempotency_key(entry)
    if check_mode:
        return make_action("payment_retry", entry["order_id"], True, True, "would POST %s (Idempotency-Key %s)"
                           % (url, key)), None
    headers = dict(params.get("retry_headers") or {})
    headers.update({"Content-Type": "application/json", params["idempotency_header"]: key})
    if params.get("retry_token"):
        headers["Authorization"] = "Bearer %s" % params["retry_token"]
    body = json.dumps({"orderId": entry["order_id"], "reason": "opsbook payment-saga: no compensation",
                       "failedEvent": entry["event"]})
    secrets = [params.get("retry_token")]
    try:
        response = open_url(url, data=body, headers=headers, method="POST", timeout=params["retry_timeout"],
                            validate_certs=params.get("validate_certs", True), follow_redirects="none")
        status = response.getcode()
        return make_action("payment_retry", entry["order_id"], True, False,
                           "POST %s -> HTTP %s (Idempotency-Key %s)" % (url, status, key)), None
    except Exception as exc:  # HTTPError, URLError, socket timeouts: a finding, not a traceback
        code = getattr(exc, "code", None)
        reason = ("HTTP %s" % code) if code else scrub(str(getattr(exc, "reason", exc)), secrets)
        action = make_action("payment_retry", entry["order_id"], False, False, "POST %s failed: %s" % (url, reason))
        finding = make_finding("payment_saga_retry", CRITICAL, "retry of order %s failed: POST %s -> %s"
                               % (entry["order_id"], url, reason), target=entry["order_id"])
        return action, finding


def missing_topics(params):
    admin = kafka_common.admin_client(params)
    metadata = kafka_common.cluster_metadata(admin, params)
    return [t for t in (params["failure_topic"], params["compensation_topic"]) if t not in metadata.topics]


def saga_check(params, check_mode=False, sleep=time.sleep):
    """The module's work."""
    validate_options(params)
    missing = missing_topics(params)
    if missing:
        return {"changed": False, "orders": dict((c, []) for c in CLASSES), "counts": dict((c, 0) for c in CLASSES),
                "read": {}, "actions": [], "findings": [make_finding(
                    "payment_saga_topics", WARNING, "topic(s) %s do not exist on %s: the saga was not checked"
                    % (", ".join(missing), kafka_common.describe_target(params)), target=", ".join(missing))]}
    classes, reads, complete = scan(params)
    findings = scan_findings(classes, params, complete)
    result = {"changed": False, "orders": classes, "counts": dict((c, len(classes[c])) for c in CLASSES),
              "read": reads, "actions": [], "findings": findings}
    stuck = classes["stuck"]
    if not (params.get("remediate") and stuck):
        return result
    if len(stuck) > params["max_retries"]:
        findings.append(make_finding(
            "payment_saga_retry", CRITICAL,
            "%d stuck orders exceed max_retries (%d): no retry was sent; raise max_retries to confirm"
            % (len(stuck), params["max_retries"]), value=len(stuck), target=params["failure_topic"]))
        return result
    for entry in stuck:
        action, finding = retry(entry, params, check_mode)
        result["actions"].append(action)
        if finding:
            findings.append(finding)
    result["changed"] = any(a["changed"] for a in result["actions"])
    if check_mode or not any(a["changed"] and not a["dry_run"] for a in result["actions"]):
        return result
    # re-check: read again until the retried orders resolve or the time is up
    retried = set(e["order_id"] for e in stuck)
    deadline = time.time() + params["recheck_timeout"]
    while True:
        classes, reads, complete = scan(params)
        remaining = [e for e in classes["stuck"] if e["order_id"] in retried]
        if not remaining or time.time() >= deadline:
            break
        sleep(min(1.0, max(0.0, deadline - time.time())))
    result["after"] = {"orders": classes, "counts": dict((c, len(classes[c])) for c in CLASSES)}
    if not remaining and all(a["changed"] for a in result["actions"]):
        # verified: what was stuck is resolved; keep the record, not the alarm
        findings[0]["status"] = OK
        findings[0]["message"] = "resolved by retry: " + findings[0]["message"]
    findings.append(make_finding(
        "payment_saga_recheck", CRITICAL if remaining else OK,
        ("%d retried order(s) are still stuck after %ss: %s" % (len(remaining), params["recheck_timeout"],
                                                                _orders(remaining))) if remaining
        else "all %d retried order(s) resolved (compensated or recovered)" % len(retried),
        value=len(remaining), unit="orders", target=params["failure_topic"]))
    return result
