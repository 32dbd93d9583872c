"""The saturation_queries filter: the role's settings dictionary in, prometheus_query's queries out."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.opsbook.runbooks.plugins.filter import prometheus as prometheus_filter


def test_settings_pass_through_and_nulls_take_the_defaults():
    queries = prometheus_filter.saturation_queries({"window": "1m", "cpu_pct": [5, 50], "heap_pct": None,
                                                    "checks": ["cpu_usage", "jvm_heap_usage"]})
    assert [(q["name"], q["warn"], q["crit"]) for q in queries] == [("cpu_usage", 5, 50), ("jvm_heap_usage", 75, 90)]
    assert "[1m]" in queries[0]["query"]


@pytest.mark.parametrize("settings, message", [
    ("5m", "expected a dictionary of settings"),
    ({"window": "5 minutes"}, "window: '5 minutes' is not a PromQL duration"),
    ({"cpu": [1, 2]}, "unexpected keyword argument 'cpu'"),
])
def test_bad_settings_are_filter_errors(settings, message):
    with pytest.raises(AnsibleFilterError, match=message):
        prometheus_filter.saturation_queries(settings)
