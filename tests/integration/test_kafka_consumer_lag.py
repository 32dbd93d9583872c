"""kafka_consumer_lag against the lab's real Kafka, checked against Kafka's own ConsumerGroupCommand,
and the trend drills (growing lag with the consumer stopped, a stalled consumer, offsets reset backwards).

The drills call the module's logic in-process with a ``sleep`` hook: the fault is injected
between two readings, so the verdict does not depend on timing.
"""

from __future__ import annotations

import pytest
from confluent_kafka import TopicPartition

from ansible_collections.opsbook.runbooks.plugins.filter.kafka import kafka_consumer_groups
from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import lag as kafka_lag
from tests.helpers import closed_port, run_module
from tests.kafka_lab import consumer_group_command, scratch, tool_rows  # noqa: F401 - scratch is a fixture

pytestmark = pytest.mark.lab


def tool_view(kafka_service, group):
    proc = consumer_group_command(kafka_service, "--describe", "--group", group)
    assert proc.returncode == 0, proc.stderr
    rows = []
    for row in tool_rows(proc.stdout):
        value = lambda key: None if row[key] == "-" else row[key]  # noqa: E731
        rows.append({
            "topic": row["TOPIC"],
            "partition": int(row["PARTITION"]),
            "committed_offset": None if value("CURRENT-OFFSET") is None else int(row["CURRENT-OFFSET"]),
            "log_end_offset": int(row["LOG-END-OFFSET"]),
            "lag": None if value("LAG") is None else int(row["LAG"]),
            "consumer_id": value("CONSUMER-ID"),
            "host": value("HOST"),
            "client_id": value("CLIENT-ID"),
        })
    return sorted(rows, key=lambda r: (r["topic"], r["partition"])), proc.stdout


def module_group(result, group):
    assert result.get("reachable", True), result["findings"]
    return next(g for g in result["groups"] if g["group"] == group)


def test_lag_equals_kafka_consumer_group_command(lab, kafka_params, scratch):
    topic = scratch.topic(partitions=3)
    group = scratch.group()
    scratch.produce(topic, 12, partition=0)
    scratch.produce(topic, 10, partition=1)
    with scratch.member(topic, group, consumed=15):
        scratch.produce(topic, 8, partition=2)  # assigned, never committed: the tool prints '-'
        expected, text = tool_view(lab["services"]["kafka"], group)
        result = run_module("kafka_consumer_lag", dict(kafka_params, groups=[group]))
    got = module_group(result, group)
    assert got["partitions"] == expected, text
    # and the numbers themselves: 22 messages in partitions 0-1, 15 consumed; partition 2 has 8, no offset
    assert [r["log_end_offset"] for r in got["partitions"]] == [12, 10, 8]
    assert sum(r["committed_offset"] for r in got["partitions"][:2]) == 15
    assert got["partitions"][2]["committed_offset"] is None and got["partitions"][2]["lag"] is None
    assert got["total_lag"] == 22 - 15
    assert got["partitions_without_offset"] == [f"{topic}-2"]
    assert got["topics"] == {topic: {"lag": 7, "partitions": 3, "partitions_without_offset": 1}}
    assert got["state"] == "Stable"
    assert [(m["client_id"], m["host"]) for m in got["members"]] == [(f"{group}-client", expected[0]["host"])]
    assert got["members"][0]["partitions"] == [f"{topic}-0", f"{topic}-1", f"{topic}-2"]
    assert result["status"] == "ok"  # 7 is below the seed's 1000
    assert got["trend"] is None
    assert_filter_agrees(text, got)


def assert_filter_agrees(text, got):
    """The filter's reading of the tool's text has the module's shape and numbers."""
    (parsed,) = kafka_consumer_groups(text)
    for key in ("group", "partitions", "members", "total_lag", "topics", "partitions_without_offset", "max_lag"):
        assert parsed[key] == got[key], key


def test_empty_group_equals_tool_and_threshold_is_critical(lab, kafka_params, scratch):
    topic = scratch.topic(partitions=2)
    group = scratch.group()
    scratch.produce(topic, 6, partition=0)
    scratch.produce(topic, 4, partition=1)
    scratch.commit(group, topic, {0: 1, 1: 4})
    expected, text = tool_view(lab["services"]["kafka"], group)
    result = run_module("kafka_consumer_lag", dict(kafka_params, group_pattern=group[len("kafkat-"):] + "$",
                                                   lag_crit=5))
    got = module_group(result, group)
    assert got["partitions"] == expected, text
    assert got["state"] == "Empty" and got["members"] == []
    assert got["total_lag"] == 5
    finding = next(f for f in result["findings"] if f["check"] == "kafka_consumer_lag" and f["target"] == group)
    assert finding["status"] == "critical" and finding["value"] == 5
    assert "max 5 on %s-0" % topic in finding["message"]
    assert_filter_agrees(text, got)


def readings_with(kafka_params, group, between, samples=3):
    """Run the module's logic with ``between(i)`` injected between readings."""
    calls = []

    def hook(_seconds):
        calls.append(len(calls))
        between(len(calls))

    result = kafka_lag.consumer_lag(dict(kafka_params, groups=[group], group_pattern=None, samples=samples,
                                         interval=0.1, lag_warn=None, lag_crit=1000), sleep=hook)
    assert len(calls) == samples - 1
    return result, result["groups"][0]["trend"]


def test_drill_growing_lag_with_consumer_stopped_is_error_stop(kafka_params, scratch):
    topic = scratch.topic(partitions=1)
    group = scratch.group()
    scratch.produce(topic, 10)
    scratch.commit(group, topic, {0: 4})  # consumed 4, then the consumer went away
    result, trend = readings_with(kafka_params, group, lambda i: scratch.produce(topic, 5))  # producer keeps going
    assert trend["status"] == "ERROR"
    (part,) = trend["partitions"]
    assert part["status"] == "STOP"
    assert part["lags"] == [6, 11, 16] and part["offsets"] == [4, 4, 4]
    assert "stopped" in part["reason"] and "6 -> 11 -> 16" in part["reason"]
    finding = next(f for f in result["findings"] if f["check"] == "kafka_consumer_lag_trend")
    assert finding["status"] == "critical" and (finding["value"], finding["state"]) == (None, "error")


def test_drill_slow_consumer_is_warning(kafka_params, scratch):
    topic = scratch.topic(partitions=1)
    group = scratch.group()
    scratch.produce(topic, 10)
    with scratch.member(topic, group, consumed=2) as consumer:

        def slow(_i):  # 10 new messages, 2 processed per interval
            scratch.produce(topic, 10)
            scratch.consume(consumer, 2)

        result, trend = readings_with(kafka_params, group, slow)
    (part,) = trend["partitions"]
    assert part["offsets"] == [2, 4, 6] and part["lags"] == [8, 16, 24]
    assert part["status"] == "WARNING" and trend["status"] == "WARNING"
    assert "falling behind" in part["reason"]
    assert next(f for f in result["findings"] if f["check"] == "kafka_consumer_lag_trend")["status"] == "warning"


def test_drill_stalled_consumer_is_stall(kafka_params, scratch):
    topic = scratch.topic(partitions=1)
    group = scratch.group()
    scratch.produce(topic, 10)
    with scratch.member(topic, group, consumed=3) as consumer:

        def stuck(_i):  # alive, polling, but commits the same offset (a message it cannot process)
            consumer.poll(0.1)
            consumer.commit(offsets=[TopicPartition(topic, 0, 3)], asynchronous=False)

        result, trend = readings_with(kafka_params, group, stuck)
    (part,) = trend["partitions"]
    assert part["offsets"] == [3, 3, 3] and part["lags"] == [7, 7, 7]
    assert part["status"] == "STALL" and trend["status"] == "ERROR"
    assert "stuck" in part["reason"]


def test_drill_offsets_reset_backwards_is_rewind(lab, kafka_params, scratch):
    topic = scratch.topic(partitions=1)
    group = scratch.group()
    scratch.produce(topic, 30)
    scratch.commit(group, topic, {0: 20})

    def reset(i):  # what `kafka-consumer-groups --reset-offsets --to-offset 5 --execute` does
        if i == 1:
            proc = consumer_group_command(lab["services"]["kafka"], "--reset-offsets", "--group", group,
                                          "--topic", topic, "--to-offset", "5", "--execute")
            assert proc.returncode == 0, proc.stderr

    result, trend = readings_with(kafka_params, group, reset)
    (part,) = trend["partitions"]
    assert part["offsets"] == [20, 5, 5] and part["lags"] == [10, 25, 25]
    assert part["status"] == "REWIND" and trend["status"] == "ERROR"
    assert "went backwards from 20 to 5" in part["reason"]


def test_module_trend_through_ansible(kafka_params, scratch):
    topic = scratch.topic(partitions=1)
    group = scratch.group()
    scratch.produce(topic, 5)
    scratch.commit(group, topic, {0: 2})
    result = run_module("kafka_consumer_lag", dict(kafka_params, groups=[group], samples=2, interval=0.2))
    trend = result["groups"][0]["trend"]
    assert trend["status"] == "ERROR" and trend["partitions"][0]["status"] == "STOP"
    assert result["status"] == "critical"
    assert result["samples"] == 2


def test_unknown_group_is_reported_not_found(kafka_params):
    result = run_module("kafka_consumer_lag", dict(kafka_params, groups=["kafkat-missing-group-xyz"]))
    (group,) = result["groups"]
    assert group["found"] is False
    assert result["findings"][0]["check"] == "kafka_consumer_group_found"
    assert result["status"] == "unknown"


def test_unreachable_is_critical_within_timeout(kafka_params):
    result = run_module("kafka_consumer_lag", dict(kafka_params, bootstrap_servers=[f"127.0.0.1:{closed_port()}"],
                                                   request_timeout=2))
    assert result["status"] == "critical"
    assert result["reachable"] is False
    assert "cannot reach Kafka" in result["findings"][0]["message"]
    assert result["duration"] < 10


@pytest.mark.parametrize("args, option", [
    ({"group_pattern": "(["}, "group_pattern"),
    ({"samples": 0}, "samples"),
    ({"interval": 0}, "interval"),
    ({"lag_crit": -1}, "lag_crit"),
])
def test_bad_input_names_the_option(kafka_params, args, option):
    result = run_module("kafka_consumer_lag", dict(kafka_params, **args))
    assert result["failed"]
    assert result["msg"].startswith(option + ":")
