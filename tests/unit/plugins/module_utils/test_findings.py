import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.common import findings as fv


@pytest.mark.parametrize(
    "value, warn, crit, direction, expected",
    [
        (10, 80, 90, "above", "ok"),
        (80, 80, 90, "above", "warning"),
        (89.9, 80, 90, "above", "warning"),
        (90, 80, 90, "above", "critical"),
        (1500, 1000, None, "above", "warning"),
        (1500, None, 1000, "above", "critical"),
        (99, 95, 80, "below", "ok"),
        (95, 95, 80, "below", "warning"),
        (80, 95, 80, "below", "critical"),
        (0, 95, 80, "below", "critical"),
        (None, 95, 80, "below", "unknown"),
        ("85", 80, 90, "above", "warning"),
        (5, None, None, "above", "ok"),
    ],
)
def test_evaluate(value, warn, crit, direction, expected):
    assert fv.evaluate(value, warn, crit, direction) == expected


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"value": 1, "warn": 90, "crit": 80, "direction": "above"}, "warn threshold 90 is above crit threshold 80"),
        ({"value": 1, "warn": 80, "crit": 90, "direction": "below"}, "warn threshold 80 is below crit threshold 90"),
        ({"value": 1, "direction": "sideways"}, "direction must be one of above, below"),
        ({"value": "lots"}, "value must be a number, got 'lots'"),
        ({"value": True}, "value must be a number, got a boolean"),
        ({"value": 1, "warn": "x"}, "warn threshold must be a number"),
    ],
)
def test_evaluate_rejects_bad_input(kwargs, message):
    with pytest.raises(fv.FindingError, match=message):
        fv.evaluate(**kwargs)


@pytest.mark.parametrize(
    "statuses, expected",
    [
        ([], "ok"),
        (["ok", "ok"], "ok"),
        (["ok", "unknown"], "unknown"),
        (["unknown", "warning"], "warning"),
        (["critical", "warning", "ok"], "critical"),
    ],
)
def test_worst_orders_ok_unknown_warning_critical(statuses, expected):
    assert fv.worst(statuses) == expected


def test_severity_rejects_unknown_status():
    with pytest.raises(fv.FindingError, match="unknown status 'bad'"):
        fv.severity("bad")


def test_threshold_finding_has_every_key_and_explains_itself():
    finding = fv.threshold_finding("kafka_lag", 1500, warn=1000, crit=5000, unit="messages", target="g1")
    assert set(finding) == set(fv.FINDING_KEYS)
    assert finding["status"] == "warning"
    assert finding["message"] == "kafka_lag is 1500 messages, at or above the warning threshold of 1000 messages"
    assert finding["threshold"] == {"warn": 1000, "crit": 5000, "direction": "above"}


def test_threshold_finding_below_direction_message():
    finding = fv.threshold_finding("hit", 91.5, warn=95, crit=80, direction="below", unit="%", label="hit rate")
    assert finding["message"] == "hit rate is 91.5%, at or below the warning threshold of 95%"


def test_ok_message_names_the_limit():
    finding = fv.threshold_finding("pool", 4.0, warn=80, crit=90, unit="%", label="pool use")
    assert finding["message"] == "pool use is 4% (below the 80% limit)"


def test_summarize_counts():
    found = [fv.make_finding("a", "ok", "m"), fv.make_finding("b", "critical", "m"), fv.make_finding("c", "ok", "m")]
    assert fv.summarize(found) == {
        "status": "critical",
        "counts": {"ok": 2, "unknown": 0, "warning": 0, "critical": 1},
        "total": 3,
    }


def test_validate_finding_names_missing_keys():
    with pytest.raises(fv.FindingError, match="finding is missing state, threshold, unit"):
        fv.validate_finding({"check": "x", "status": "ok", "value": 1, "message": "m", "target": None})


def test_make_action_shape():
    action = fv.make_action("terminate", "pid 42", changed=1, dry_run=0)
    assert action == {"action": "terminate", "target": "pid 42", "changed": True, "dry_run": False, "detail": None}


@pytest.mark.parametrize("value, expected_value, expected_state", [
    (3, 3, None), (0.5, 0.5, None), (None, None, None),
    ("RECOVERED", None, "recovered"), ("STALL", None, "stall"), (True, None, "true"),
])
def test_words_go_to_state_numbers_stay_values(value, expected_value, expected_state):
    finding = fv.make_finding("c", "ok", "m", value=value)
    assert (finding["value"], finding["state"]) == (expected_value, expected_state)


@pytest.mark.parametrize("threshold, expected", [
    (None, None),
    ({"warn": 1, "crit": 2}, {"warn": 1, "crit": 2, "direction": "above"}),
    ({"warn": 1, "crit": None, "direction": "below", "strict": True}, {"warn": 1, "crit": None, "direction": "below", "strict": True}),
    ({"expected": 200}, {"expected": 200}),
])
def test_one_threshold_shape(threshold, expected):
    assert fv.make_finding("c", "ok", "m", threshold=threshold)["threshold"] == expected


@pytest.mark.parametrize("threshold", [{"desired": 3}, {"expected": 1, "warn": 2}, "5"])
def test_other_threshold_shapes_are_refused(threshold):
    with pytest.raises(fv.FindingError, match="threshold must be"):
        fv.make_finding("c", "ok", "m", threshold=threshold)


def test_phase_is_checked_and_not_configured_is_no_verdict():
    with pytest.raises(fv.FindingError, match="phase must be one of"):
        fv.make_finding("c", "ok", "m", phase="fix")
    finding = fv.not_configured_finding("redis_reachable", "redis", "opsbook_redis", "app-1", scope="Redis")
    assert (finding["status"], finding["state"], finding["message"]) == (
        "unknown", "not_configured", "Redis not checked: no opsbook_redis is defined for app-1 (set opsbook_redis in the inventory)")
