"""The kafka_consumer_groups filter on real text captured from Kafka 4.1.2's ConsumerGroupCommand."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.opsbook.runbooks.plugins.filter.kafka import FilterModule

CAPTURED = Path(__file__).parent / "fixtures" / "kafka_consumer_groups"
ORDERS = "kafkat-order-service-group"
MEMBER = "kafkat-order-service-group-client-d62d6257-be4f-46f3-9274-1778cf9a1a42"


@pytest.fixture
def parse():
    return FilterModule().filters()["kafka_consumer_groups"]


def text(name):
    return (CAPTURED / f"4.1.2_{name}.txt").read_text()


def test_active_group_rows_members_and_totals(parse):
    (group,) = parse(text("active_group"))
    assert group["group"] == ORDERS and group["found"] is True and group["state"] is None
    assert [(r["partition"], r["committed_offset"], r["log_end_offset"], r["lag"]) for r in group["partitions"]] == [
        (0, None, 1200, None), (1, 30, 40, 10), (2, None, 5, None)]
    assert {r["consumer_id"] for r in group["partitions"]} == {MEMBER}
    assert group["members"] == [{"member_id": MEMBER, "client_id": "kafkat-order-service-group-client",
                                 "host": "/127.0.0.1", "partitions": [f"kafkat-orders-cap-{p}" for p in range(3)]}]
    assert group["total_lag"] == 10
    assert group["partitions_without_offset"] == ["kafkat-orders-cap-0", "kafkat-orders-cap-2"]
    assert group["topics"] == {"kafkat-orders-cap": {"lag": 10, "partitions": 3, "partitions_without_offset": 2}}
    assert group["max_lag"] == {"partition": "kafkat-orders-cap-1", "lag": 10}


def test_two_groups_and_no_active_members(parse):
    billing, orders = parse(text("two_groups"))
    assert billing["group"] == "kafkat-billing-service-group"
    assert billing["state"] == "Empty" and billing["members"] == []
    assert billing["partitions"] == [{"topic": "kafkat-billing-cap", "partition": 0, "committed_offset": 3,
                                      "log_end_offset": 9, "lag": 6, "consumer_id": None, "host": None,
                                      "client_id": None}]
    assert orders["group"] == ORDERS and orders["total_lag"] == 10


def test_empty_group(parse):
    (group,) = parse(text("empty_group"))
    assert group["state"] == "Empty"
    assert [(r["partition"], r["lag"]) for r in group["partitions"]] == [(1, 10)]


def test_missing_group_is_not_found(parse):
    (group,) = parse(text("missing_group"))
    assert group["group"] == "kafkat-no-such-group"
    assert group["found"] is False and group["partitions"] == []


def test_old_header_without_group_column_and_client_id_with_spaces(parse):
    old = ("TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID\n"
           "orders 0 5 1500 1495 c-1 /10.0.0.1 order service\n")
    (group,) = parse(old, "order-service-group")
    assert group["group"] == "order-service-group"
    assert group["partitions"][0]["client_id"] == "order service"
    assert group["total_lag"] == 1495


def test_lag_findings_use_the_seed_threshold():
    filters = FilterModule().filters()
    groups = filters["kafka_consumer_groups"](text("two_groups")) + filters["kafka_consumer_groups"](text("missing_group"))
    findings = filters["kafka_lag_findings"](groups, 10)
    assert [(f["target"], f["status"], f["value"]) for f in findings] == [
        ("kafkat-billing-service-group", "ok", 6), (ORDERS, "critical", 10)]


@pytest.mark.parametrize("value, message", [
    (None, "kafka_consumer_groups: expected the text printed by kafka-consumer-groups --describe, got NoneType"),
    ("GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG\ng t x 1 2 1\n",
     "kafka_consumer_groups: line 2: partition is 'x', expected a number or '-'"),
])
def test_bad_input(parse, value, message):
    with pytest.raises(AnsibleFilterError) as err:
        parse(value)
    assert str(err.value) == message
