import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import sql_checks
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput


@pytest.mark.parametrize(
    "value, warn, crit, direction, expected",
    [
        (100, None, 100, "above", "ok"),  # DLQ "> 100": exactly 100 is fine
        (101, None, 100, "above", "critical"),
        (0, 0, None, "above", "ok"),  # files waiting "> 0"
        (1, 0, None, "above", "warning"),
        (98.0, 98, 95, "below", "ok"),  # SLA: >= 98 OK
        (97.99, 98, 95, "below", "warning"),
        (95.0, 98, 95, "below", "warning"),  # >= 95 warning
        (94.99, 98, 95, "below", "critical"),  # breach
        (None, 98, 95, "below", "unknown"),
    ],
)
def test_strict_status_follows_the_runbook_wording(value, warn, crit, direction, expected):
    assert sql_checks.strict_status(value, warn, crit, direction) == expected


def test_strict_finding_message_and_threshold():
    check = sql_checks.validate([{"name": "dlq", "sql": "SELECT 1", "crit": 100, "strict": True, "unit": "entries"}])[0]
    finding = sql_checks.finding_for(check, 101, "t")
    assert finding["status"] == "critical"
    assert finding["message"] == "dlq is 101 entries, more than the critical threshold of 100"
    assert finding["threshold"] == {"warn": None, "crit": 100.0, "direction": "above", "strict": True}


@pytest.mark.parametrize(
    "checks, message",
    [
        ([], "checks must list at least one check"),
        ([{"name": "a"}], "checks[0] needs a name and an sql"),
        ([{"name": "a", "sql": "x"}, {"name": "a", "sql": "y"}], "the name 'a' is used twice"),
        ([{"name": "a", "sql": "x", "bogus": 1}], "unknown key(s) bogus"),
        ([{"name": "a", "sql": "x", "direction": "up"}], "checks[a].direction must be one of"),
        ([{"name": "a", "sql": "x", "warn": "lots"}], "checks[a].warn must be a number"),
        ([{"name": "a", "sql": "x", "warn": 10, "crit": 5}], "checks[a]: warn threshold 10.0 is above crit"),
    ],
)
def test_validate_names_the_bad_entry(checks, message):
    with pytest.raises(InvalidInput) as err:
        sql_checks.validate(checks)
    assert message in str(err.value)
