"""The one alert -> scenario mapping (opsbook.catalog.scenario_for_alert) over the real catalogue."""

from __future__ import annotations

import collections

import pytest

from opsbook.catalog import NoScenario, Scenario, load_catalog, scenario_for_alert


def test_every_catalogued_alert_names_one_scenario():
    counts = collections.Counter(a for entry in load_catalog().values() for a in entry.alerts)
    assert [a for a, n in counts.items() if n > 1] == []


@pytest.mark.parametrize("alert, scenario", [
    ("RedisMemoryHigh", "redis-health"), ("RedisDown", "redis-health"), ("APIDown", "api-down"),
    ("HighLatencyP95", "api-latency"), ("KafkaConsumerLagHigh", "kafka-consumer-lag"),
])
def test_catalogue_decides(alert, scenario):
    entry, why = scenario_for_alert(alert)
    assert entry.name == scenario and why == f"the catalogue lists {alert} under {scenario}"


def test_label_may_confirm():
    entry, why = scenario_for_alert("APIDown", {"scenario": "api-down"})
    assert entry.name == "api-down" and why.endswith("(the alert's scenario label agrees)")


@pytest.mark.parametrize("alert, labels, message", [
    ("NoSuchAlert", {}, "no scenario for alert NoSuchAlert; playbooks/catalog.yml lists the alerts it handles"),
    ("NoSuchAlert", {"scenario": "api-down"},
     "no scenario for alert NoSuchAlert (its scenario label says 'api-down', but the catalogue lists the alert nowhere)"),
    ("APIDown", {"scenario": "redis-health"},
     "no scenario for alert APIDown: the catalogue maps it to api-down, its scenario label says 'redis-health'"),
    ("CriticalLogDetected", {}, "no scenario for alert CriticalLogDetected: application-errors is planned, not implemented yet"),
])
def test_no_scenario(alert, labels, message):
    with pytest.raises(NoScenario) as err:
        scenario_for_alert(alert, labels)
    assert str(err.value).startswith(message)


def test_first_listing_wins_in_a_given_catalogue():
    catalog = {"a": Scenario("a", "A", alerts=["X"], playbook="a.yml"), "b": Scenario("b", "B", alerts=["X"])}
    assert scenario_for_alert("X", catalog=catalog)[0].name == "a"
