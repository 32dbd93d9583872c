"""Pure functions of kafka_lag: the Burrow-style trend rules, row building and totals."""

from __future__ import annotations

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import lag as kafka_lag
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput


@pytest.mark.parametrize("points, owned, status, words", [
    ([(5, 3), (5, 3)], True, "STALL", "stayed at 5"),
    ([(5, 3), (5, 9)], False, "STOP", "stopped"),
    ([(5, 3), (7, 4), (9, 6)], True, "WARNING", "never fell"),
    ([(5, 3), (7, 3)], True, "WARNING", "never fell"),
    ([(5, 3), (9, 1)], True, "OK", "progress"),
    ([(5, 3), (9, 0), (9, 4)], True, "OK", "caught up"),
    ([(9, 3), (4, 8)], True, "REWIND", "backwards from 9 to 4"),
    ([(9, 0), (4, 5)], False, "REWIND", "backwards"),  # a rewind is reported even from lag 0
    ([(5, 3)], True, "OK", "fewer than two"),
])
def test_partition_trend(points, owned, status, words):
    got, reason = kafka_lag.partition_trend(points, owned)
    assert got == status
    assert words in reason


def reading(rows, members=True):
    parts = [{"topic": t, "partition": p, "committed_offset": o, "lag": lag, "consumer_id": "c" if members else None}
             for t, p, o, lag in rows]
    return {"members": [{"member_id": "c"}] if members else [], "partitions": parts}


@pytest.mark.parametrize("readings, status", [
    ([reading([("t", 0, 1, 2)])], None),
    ([reading([("t", 0, 1, 2), ("t", 1, 1, 0)]), reading([("t", 0, 3, 1), ("t", 1, 1, 0)])], "OK"),
    ([reading([("t", 0, 1, 2), ("t", 1, 1, 2)]), reading([("t", 0, 3, 1), ("t", 1, 2, 5)])], "WARNING"),
    ([reading([("t", 0, 1, 2)], False), reading([("t", 0, 1, 4)], False)], "ERROR"),
    ([reading([("t", 0, None, None)]), reading([("t", 0, None, None)])], "OK"),
])
def test_group_trend(readings, status):
    trend = kafka_lag.evaluate_trend(readings)
    assert (trend and trend["status"]) == status


def test_group_rows_and_totals_like_the_tool():
    members = [{"member_id": "m1", "client_id": "c1", "host": "/10.0.0.1", "_assigned": [("a", 0), ("a", 1)]}]
    rows = kafka_lag.group_rows(members, {("a", 0): 3, ("b", 0): 7}, {("a", 0): 10, ("a", 1): 4, ("b", 0): 7})
    assert [(r["topic"], r["partition"], r["committed_offset"], r["log_end_offset"], r["lag"], r["consumer_id"])
            for r in rows] == [("a", 0, 3, 10, 7, "m1"), ("a", 1, None, 4, None, "m1"), ("b", 0, 7, 7, 0, None)]
    total = kafka_lag.totals(rows)
    assert total["total_lag"] == 7
    assert total["partitions_without_offset"] == ["a-1"]
    assert total["max_lag"] == {"partition": "a-0", "lag": 7}
    assert total["topics"] == {"a": {"lag": 7, "partitions": 2, "partitions_without_offset": 1},
                               "b": {"lag": 0, "partitions": 1, "partitions_without_offset": 0}}


@pytest.mark.parametrize("ids, names, pattern, expected", [
    (["a", "b-svc", "c-svc"], [], None, ["a", "b-svc", "c-svc"]),
    (["a", "b-svc", "c-svc"], ["a"], None, ["a"]),
    (["a", "b-svc", "c-svc"], ["zz"], "svc$", ["b-svc", "c-svc", "zz"]),
])
def test_select_groups(ids, names, pattern, expected):
    assert kafka_lag.select_groups(ids, names, pattern) == expected


@pytest.mark.parametrize("params, option", [
    ({"group_pattern": "(", "samples": 1, "interval": 1}, "group_pattern"),
    ({"samples": 101, "interval": 1}, "samples"),
    ({"samples": 1, "interval": 601}, "interval"),
    ({"samples": 1, "interval": 1, "lag_warn": -2}, "lag_warn"),
])
def test_validate_options(params, option):
    with pytest.raises(InvalidInput, match="^%s: " % option):
        kafka_lag.validate_options(params)
