import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.opsbook.runbooks.plugins.filter.health import FilterModule


@pytest.fixture
def filters():
    return FilterModule().filters()


def test_health_status_both_directions(filters):
    assert filters["health_status"](1500, 1000, 5000) == "warning"
    assert filters["health_status"](6000, 1000, 5000) == "critical"
    assert filters["health_status"](90, 95, 80, "below") == "warning"
    assert filters["health_status"](None, 95, 80, "below") == "unknown"


def test_health_status_bad_input_is_a_filter_error(filters):
    with pytest.raises(AnsibleFilterError, match="health_status: direction must be one of above, below"):
        filters["health_status"](1, 1, 2, "up")


def test_worst_status_accepts_findings_and_strings(filters):
    assert filters["worst_status"](["ok", "warning"]) == "warning"
    assert filters["worst_status"]([{"status": "critical"}, {"status": "ok"}]) == "critical"


def test_health_finding_builds_a_finding(filters):
    finding = filters["health_finding"](1200, "lag", 1000, None, "above", "messages", "order-service-group")
    assert finding["status"] == "warning" and finding["target"] == "order-service-group"


def test_findings_summary_validates(filters):
    with pytest.raises(AnsibleFilterError, match="findings_summary: finding is missing"):
        filters["findings_summary"]([{"status": "ok"}])
