# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kafka consumer lag: what ``kafka-consumer-groups --describe`` shows, and a trend verdict.

A *snapshot* reads, for every selected consumer group, its state and members
(``describe_consumer_groups``), its committed offsets (``list_consumer_group_offsets``)
and the log-end offset of every partition the group has committed to or is assigned
(``list_offsets(latest)``).  Partitions assigned to a member but with no committed
offset are reported with ``committed_offset: null`` and ``lag: null``, exactly like
Kafka's own tool prints ``-``.

The trend evaluation (:func:`evaluate_trend`) is modelled on Burrow's consumer lag
evaluation rules, applied to ``samples`` snapshots taken ``interval`` seconds apart.
The Kafka protocol does not give commit timestamps, so "the consumer stopped
committing" (STOP) and "the consumer commits the same offset" (STALL) are told
apart by group membership: an unchanged offset with lag on a partition that an
active member owns is STALL, on a partition nobody owns it is STOP.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import common as kafka_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    CRITICAL,
    OK,
    UNKNOWN,
    WARNING,
    make_finding,
    threshold_finding,
)

try:
    from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
    from confluent_kafka.admin import OffsetSpec
except ImportError:  # pragma: no cover - kafka_common.admin_client reports the missing library
    pass

# Partition trend statuses (Burrow's names) and the group status each one implies.
TREND_OK = "OK"
TREND_WARNING = "WARNING"
TREND_STOP = "STOP"
TREND_STALL = "STALL"
TREND_REWIND = "REWIND"
TREND_ERROR = "ERROR"
_GROUP_STATUS = {TREND_OK: TREND_OK, TREND_WARNING: TREND_WARNING, TREND_STOP: TREND_ERROR,
                 TREND_STALL: TREND_ERROR, TREND_REWIND: TREND_ERROR}
_TREND_RANK = {TREND_OK: 0, TREND_WARNING: 1, TREND_ERROR: 2}
_FINDING_STATUS = {TREND_OK: OK, TREND_WARNING: WARNING, TREND_ERROR: CRITICAL}

# How Kafka's own tool spells the group states.
_STATE_NAMES = {
    "STABLE": "Stable",
    "EMPTY": "Empty",
    "DEAD": "Dead",
    "PREPARING_REBALANCING": "PreparingRebalance",
    "COMPLETING_REBALANCING": "CompletingRebalance",
    "ASSIGNING": "Assigning",
    "RECONCILING": "Reconciling",
    "UNKNOWN": "Unknown",
}


def validate_options(params):
    """Check the module's own options; InvalidInput names the option."""
    pattern = params.get("group_pattern")
    if pattern:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InvalidInput("group_pattern: %r is not a valid regular expression (%s)" % (pattern, exc))
    samples = params.get("samples")
    if samples is None or not 1 <= samples <= 100:
        raise InvalidInput("samples: expected 1 to 100 snapshots, got %s" % samples)
    interval = params.get("interval")
    if interval is None or not 0 < interval <= 600:
        raise InvalidInput("interval: expected seconds between samples, above 0 and at most 600, got %s" % interval)
    for name in ("lag_warn", "lag_crit"):
        value = params.get(name)
        if value is not None and value < 0:
            raise InvalidInput("%s: expected a lag of 0 messages or more, got %s" % (name, value))


def list_group_ids(admin, params):
    """Every consumer group id the cluster knows, sorted."""

    def request(timeout):
        listing = admin.list_consumer_groups(request_timeout=timeout).result(timeout=timeout + 1)
        if listing.errors and not listing.valid:
            # the listing reports broker errors in .errors instead of raising
            raise KafkaException(listing.errors[0])
        return listing

    result = kafka_common.request(params, "listing consumer groups", request)
    return sorted(listing.group_id for listing in result.valid)


def select_groups(group_ids, names=None, pattern=None):
    """Filter group ids by exact names and/or a regex (``re.search``); both empty = all.

    Names that do not exist are kept so that the report says they were not found.
    """
    if not names and not pattern:
        return list(group_ids)
    selected = set(names or [])
    if pattern:
        regex = re.compile(pattern)
        selected.update(g for g in group_ids if regex.search(g))
    return sorted(selected)


def state_name(state):
    """Kafka's own spelling of a ConsumerGroupState (``Stable``, ``Empty``...)."""
    name = getattr(state, "name", None) or str(state)
    return _STATE_NAMES.get(name, name.title())


def describe_groups(admin, params, group_ids):
    """{group: {state, assignor, coordinator, members}} for the given groups."""

    def request(timeout):
        futures = admin.describe_consumer_groups(group_ids, request_timeout=timeout)
        return dict((group, future.result(timeout=timeout + 1)) for group, future in futures.items())

    described = kafka_common.request(params, "describing consumer groups", request) if group_ids else {}
    result = {}
    for group, desc in described.items():
        members = []
        for member in sorted(desc.members or [], key=lambda m: m.member_id):
            assignment = getattr(member, "assignment", None)
            tps = sorted((tp.topic, tp.partition) for tp in (assignment.topic_partitions if assignment else []))
            members.append({
                "member_id": member.member_id,
                "client_id": member.client_id,
                "host": member.host,
                "partitions": ["%s-%d" % tp for tp in tps],
                "_assigned": tps,
            })
        coordinator = getattr(desc, "coordinator", None)
        result[group] = {
            "state": state_name(desc.state),
            "assignor": desc.partition_assignor or None,
            "coordinator": ("%s:%s" % (coordinator.host, coordinator.port)) if coordinator else None,
            "members": members,
        }
    return result


def committed_offsets(admin, params, group):
    """{(topic, partition): offset} of one group's committed offsets (only those that exist)."""

    def request(timeout):
        futures = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)], request_timeout=timeout)
        return futures[group].result(timeout=timeout + 1)

    result = kafka_common.request(params, "reading the committed offsets of group %s" % group, request)
    offsets = {}
    for tp in result.topic_partitions or []:
        if tp.error is None and tp.offset >= 0:
            offsets[(tp.topic, tp.partition)] = tp.offset
    return offsets


def log_end_offsets(admin, params, partitions):
    """{(topic, partition): log-end offset} (``OffsetSpec.latest()``, read_uncommitted like the tool)."""
    partitions = sorted(set(partitions))
    if not partitions:
        return {}

    def request(timeout):
        query = dict((TopicPartition(t, p), OffsetSpec.latest()) for t, p in partitions)
        futures = admin.list_offsets(query, request_timeout=timeout)
        return dict(((tp.topic, tp.partition), future.result(timeout=timeout + 1).offset)
                    for tp, future in futures.items())

    return kafka_common.request(params, "reading log-end offsets", request)


def group_rows(members, committed, ends):
    """Per-partition rows like the tool's: assigned partitions plus committed ones."""
    owner = {}
    for member in members:
        for tp in member["_assigned"]:
            owner[tp] = member
    rows = []
    for tp in sorted(set(owner) | set(committed)):
        member = owner.get(tp)
        offset = committed.get(tp)
        end = ends.get(tp)
        lag = (end - offset) if offset is not None and end is not None and end >= 0 else None
        rows.append({
            "topic": tp[0],
            "partition": tp[1],
            "committed_offset": offset,
            "log_end_offset": end,
            "lag": lag,
            "consumer_id": member["member_id"] if member else None,
            "host": member["host"] if member else None,
            "client_id": member["client_id"] if member else None,
        })
    return rows


def totals(rows):
    """Total lag, per-topic totals, the partitions without a committed offset, the worst partition."""
    topics = {}
    total = 0
    without = []
    worst = None
    for row in rows:
        topic = topics.setdefault(row["topic"], {"lag": 0, "partitions": 0, "partitions_without_offset": 0})
        topic["partitions"] += 1
        if row["lag"] is None:
            topic["partitions_without_offset"] += 1
            without.append("%s-%d" % (row["topic"], row["partition"]))
            continue
        topic["lag"] += row["lag"]
        total += row["lag"]
        if worst is None or row["lag"] > worst["lag"]:
            worst = {"partition": "%s-%d" % (row["topic"], row["partition"]), "lag": row["lag"]}
    return {"total_lag": total, "topics": topics, "partitions_without_offset": without, "max_lag": worst}


def snapshot(admin, params, group_ids):
    """One reading of every group: {group: {state, members, partitions, totals...}}."""
    described = describe_groups(admin, params, group_ids)
    committed = dict((group, committed_offsets(admin, params, group)) for group in group_ids)
    wanted = set()
    for group in group_ids:
        wanted.update(committed[group])
        for member in described.get(group, {}).get("members", []):
            wanted.update(member["_assigned"])
    ends = log_end_offsets(admin, params, wanted)
    taken = time.time()
    groups = {}
    for group in group_ids:
        desc = described.get(group) or {"state": "Dead", "assignor": None, "coordinator": None, "members": []}
        rows = group_rows(desc["members"], committed[group], ends)
        entry = {
            "group": group,
            "state": desc["state"],
            "assignor": desc["assignor"],
            "coordinator": desc["coordinator"],
            "members": [dict((k, v) for k, v in m.items() if not k.startswith("_")) for m in desc["members"]],
            "partitions": rows,
            "sampled_at": round(taken, 3),
        }
        entry.update(totals(rows))
        groups[group] = entry
    return groups


def _lag_text(series):
    return " -> ".join(str(lag) for lag in series)


def partition_trend(points, owned):
    """Burrow-style status of one partition from its samples.

    ``points``: [(committed_offset, lag)] oldest first, only samples with a committed
    offset; ``owned``: whether an active member owned the partition at the last sample.
    Returns (status, reason).
    """
    offsets = [p[0] for p in points]
    lags = [p[1] for p in points]
    if len(points) < 2:
        return TREND_OK, "fewer than two samples with a committed offset; no trend"
    for before, after in zip(offsets, offsets[1:]):
        if after < before:
            return TREND_REWIND, ("the committed offset went backwards from %d to %d (offsets were reset or "
                                  "the consumer rewound); lag %s" % (before, after, _lag_text(lags)))
    if any(lag <= 0 for lag in lags):
        return TREND_OK, "the consumer caught up (lag 0) during the window; lag %s" % _lag_text(lags)
    if offsets[0] == offsets[-1]:
        if owned:
            return TREND_STALL, ("a live consumer owns the partition but its committed offset stayed at %d "
                                 "while lag is %s: it is stuck (e.g. on a message it cannot process)"
                                 % (offsets[-1], _lag_text(lags)))
        return TREND_STOP, ("no consumer committed during the window (offset stays at %d, no active member "
                            "owns the partition) while lag is %s: the consumer stopped"
                            % (offsets[-1], _lag_text(lags)))
    if all(after >= before for before, after in zip(lags, lags[1:])):
        return TREND_WARNING, ("the consumer commits (offset %d -> %d) but lag never fell: %s; it is falling behind"
                               % (offsets[0], offsets[-1], _lag_text(lags)))
    return TREND_OK, "the consumer is making progress; lag %s" % _lag_text(lags)


def evaluate_trend(readings):
    """Trend verdict of one group from its snapshots (oldest first).

    Returns {status (OK/WARNING/ERROR), reason, partitions: [{topic, partition, status,
    reason, lags, offsets}]}, or None with fewer than two readings.
    """
    if len(readings) < 2:
        return None
    last = readings[-1]
    owned = set()
    if last["members"]:
        for row in last["partitions"]:
            if row["consumer_id"]:
                owned.add((row["topic"], row["partition"]))
    keys = sorted(set((r["topic"], r["partition"]) for reading in readings for r in reading["partitions"]))
    partitions = []
    for key in keys:
        points = []
        for reading in readings:
            for row in reading["partitions"]:
                if (row["topic"], row["partition"]) == key and row["lag"] is not None:
                    points.append((row["committed_offset"], row["lag"]))
        if not points:
            continue
        status, reason = partition_trend(points, key in owned)
        partitions.append({
            "topic": key[0],
            "partition": key[1],
            "status": status,
            "reason": reason,
            "offsets": [p[0] for p in points],
            "lags": [p[1] for p in points],
        })
    group_status = TREND_OK
    for part in partitions:
        implied = _GROUP_STATUS[part["status"]]
        if _TREND_RANK[implied] > _TREND_RANK[group_status]:
            group_status = implied
    bad = [p for p in partitions if p["status"] != TREND_OK]
    if bad:
        reason = "; ".join("%s-%d %s: %s" % (p["topic"], p["partition"], p["status"], p["reason"]) for p in bad[:5])
        if len(bad) > 5:
            reason += "; and %d more partition(s)" % (len(bad) - 5)
    elif partitions:
        reason = "every partition is consuming or caught up"
    else:
        reason = "no partition has a committed offset"
    return {"status": group_status, "reason": reason, "partitions": partitions}


def lag_finding(group, lag_warn, lag_crit):
    """The seed's static check (lag >= 1000 is an alert) on a group's total lag."""
    finding = threshold_finding(
        "kafka_consumer_lag", group["total_lag"], warn=lag_warn, crit=lag_crit, unit="messages",
        target=group["group"], label="consumer lag of group %s" % group["group"],
    )
    extra = []
    if group["max_lag"]:
        extra.append("max %d on %s" % (group["max_lag"]["lag"], group["max_lag"]["partition"]))
    extra.append("state %s, %d member(s)" % (group.get("state") or "not reported", len(group["members"])))
    if group["partitions_without_offset"]:
        extra.append("%d partition(s) with no committed offset: %s" % (
            len(group["partitions_without_offset"]), ", ".join(group["partitions_without_offset"][:10])))
    finding["message"] += " (%s)" % "; ".join(extra)
    return finding


def trend_finding(group, trend, samples, interval):
    return make_finding(
        "kafka_consumer_lag_trend",
        _FINDING_STATUS[trend["status"]],
        "group %s is %s over %d samples %ss apart: %s"
        % (group["group"], trend["status"], samples, interval, trend["reason"]),
        value=trend["status"],
        target=group["group"],
    )


def consumer_lag(params, sleep=time.sleep):
    """The module's work: select groups, take ``samples`` snapshots, evaluate."""
    validate_options(params)
    admin = kafka_common.admin_client(params)
    names = params.get("groups") or []
    pattern = params.get("group_pattern")
    group_ids = select_groups(list_group_ids(admin, params), names, pattern)
    samples = int(params.get("samples") or 1)
    interval = params.get("interval")
    readings = []
    for index in range(samples):
        if index:
            sleep(interval)
        readings.append(snapshot(admin, params, group_ids))
    findings = []
    groups = []
    target = kafka_common.describe_target(params)
    if not group_ids:
        status = WARNING if (names or pattern) else OK
        findings.append(make_finding("kafka_consumer_groups", status,
                                     "no consumer group matches %s" % (pattern or names) if status != OK
                                     else "the cluster has no consumer groups", value=0, target=target))
    for group_id in group_ids:
        latest = readings[-1][group_id]
        if latest["state"] == "Dead" and not latest["partitions"]:
            latest["found"] = False
            latest["trend"] = None
            findings.append(make_finding("kafka_consumer_group_found", UNKNOWN,
                                         "consumer group %s does not exist (no members, no committed offsets)"
                                         % group_id, target=group_id))
            groups.append(latest)
            continue
        latest["found"] = True
        findings.append(lag_finding(latest, params.get("lag_warn"), params.get("lag_crit")))
        trend = evaluate_trend([reading[group_id] for reading in readings])
        latest["trend"] = trend
        if trend is not None:
            findings.append(trend_finding(latest, trend, samples, interval))
        groups.append(latest)
    return {
        "groups": groups,
        "total_lag": sum(g["total_lag"] for g in groups),
        "samples": samples,
        "findings": findings,
    }


# --- the text of `kafka-consumer-groups --describe`, for sites that can only `kubectl exec` ---

_COLUMNS = {
    "GROUP": "group",
    "TOPIC": "topic",
    "PARTITION": "partition",
    "CURRENT-OFFSET": "committed_offset",
    "LOG-END-OFFSET": "log_end_offset",
    "LAG": "lag",
    "CONSUMER-ID": "consumer_id",
    "HOST": "host",
    "CLIENT-ID": "client_id",
}
_INT_COLUMNS = ("partition", "committed_offset", "log_end_offset", "lag")
_NO_MEMBERS = re.compile(r"Consumer group '([^']+)' has no active members")
_REBALANCING = re.compile(r"Consumer group '([^']+)' is rebalancing")
_NOT_FOUND = re.compile(r"(?:Consumer group '([^']+)' does not exist|Group (\S+) not found)")


def _parse_row(header, cols, line_no):
    if len(cols) > len(header):  # a client id with spaces: the last column takes the rest
        cols = cols[:len(header) - 1] + [" ".join(cols[len(header) - 1:])]
    row = {}
    for key, raw in zip(header, cols):
        value = None if raw == "-" else raw
        if key in _INT_COLUMNS and value is not None:
            try:
                value = int(value)
            except ValueError:
                raise InvalidInput("line %d: %s is %r, expected a number or '-'" % (line_no, key, raw))
        row[key] = value
    return row


def members_from_rows(rows):
    """Members as the module reports them, rebuilt from the rows' consumer columns."""
    members = {}
    for row in rows:
        if not row.get("consumer_id"):
            continue
        member = members.setdefault(row["consumer_id"], {"member_id": row["consumer_id"], "client_id": row["client_id"],
                                                         "host": row["host"], "partitions": []})
        member["partitions"].append("%s-%d" % (row["topic"], row["partition"]))
    return [members[key] for key in sorted(members)]


def parse_describe_text(text, group=None):
    """Parse ``kafka-consumer-groups --describe`` output into ``kafka_consumer_lag``'s ``groups`` shape.

    Columns are found by the header, so any Kafka version's order works; tool
    messages (no active members, rebalancing, not found) set ``state``/``found``.
    ``group`` names the group when the header has no GROUP column (very old tools).
    """
    if not isinstance(text, str):
        raise InvalidInput("expected the text printed by kafka-consumer-groups --describe, got %s"
                           % type(text).__name__)
    groups = {}
    notes = {}
    header = None
    for line_no, line in enumerate(text.splitlines(), 1):
        cols = line.split()
        if not cols:
            continue
        if "TOPIC" in cols and "PARTITION" in cols and all(c in _COLUMNS for c in cols):
            header = [_COLUMNS[c] for c in cols]
            continue
        for pattern, note in ((_NO_MEMBERS, "Empty"), (_REBALANCING, "Rebalancing"), (_NOT_FOUND, "missing")):
            match = pattern.search(line)
            if match:
                notes[match.group(1) or match.group(2)] = note
                break
        else:
            if header and len(cols) >= len(header):
                row = _parse_row(header, cols, line_no)
                name = row.pop("group", None) or group
                groups.setdefault(name, []).append(row)
    result = []
    for name in sorted(set(groups) | set(notes)):
        rows = sorted(groups.get(name, []), key=lambda r: (r["topic"], r["partition"]))
        for row in rows:
            for key in _COLUMNS.values():
                if key != "group":
                    row.setdefault(key, None)
        note = notes.get(name)
        entry = {
            "group": name,
            "found": note != "missing",
            "state": note if note in ("Empty", "Rebalancing") else None,
            "members": members_from_rows(rows),
            "partitions": rows,
            "trend": None,
        }
        entry.update(totals(rows))
        result.append(entry)
    return result
