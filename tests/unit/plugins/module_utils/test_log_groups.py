"""log_scan's per-key counting (failed logins per source IP): address extraction, strict thresholds, findings."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.workload import log_groups
from ansible_collections.opsbook.runbooks.plugins.module_utils.workload.log_scan import compile_patterns, scan_lines

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 1, 10, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("line, expected", [
    ("Jan 10 11:58:01 web sshd[811]: Failed password for root from 203.0.113.7 port 52144 ssh2", "203.0.113.7"),
    ("Jan 10 11:58:01 web sshd[811]: Failed password for invalid user admin from 2001:db8::17 port 22 ssh2",
     "2001:db8::17"),
    ("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.4  user=root",
     "198.51.100.4"),
    ('2026-01-10T11:59:00Z {"level":"warn","msg":"Failed login","ip":"192.0.2.10","username":"ana"}', "192.0.2.10"),
    ("2026-01-10T11:59:00Z WARN failed login user=ana client_ip=192.0.2.11", "192.0.2.11"),
    ('{"msg":"failed login","remote_addr": "::ffff:192.0.2.12"}', "192.0.2.12"),
    ("2026-01-10T11:59:00Z login failed for 192.0.2.13: bad password", "192.0.2.13"),
    ("2026-01-10 11:59:00 from dbhost: failed login at 10:00:00", None),  # a time is no address
    ("failed login from 999.1.1.1", None),
])
def test_source_ip(line, expected):
    assert log_groups.source_ip(line) == expected


def _scan(lines, pattern):
    patterns = compile_patterns([pattern])
    counts, last, groups = {pattern["name"]: 0}, {pattern["name"]: []}, {}
    scan_lines(lines, patterns, NOW - datetime.timedelta(minutes=5), NOW, False, counts, last, 1, groups)
    return patterns[0], counts, groups


def test_strict_threshold_per_address_and_window():
    """21 and 25 failures are over "> 20"; exactly 20 is not; lines older than the window do not count."""
    lines = (["Jan 10 11:50:00 web sshd[1]: Failed password for root from 192.0.2.99 port 1 ssh2"] * 30
             + ["Jan 10 11:57:00 web sshd[1]: Failed password for root from 192.0.2.1 port 1 ssh2"] * 25
             + ["Jan 10 11:58:00 web sshd[1]: Failed password for root from 192.0.2.2 port 1 ssh2"] * 21
             + ["Jan 10 11:59:00 web sshd[1]: Failed password for root from 192.0.2.3 port 1 ssh2"] * 20
             + ["Jan 10 11:59:30 web sshd[1]: Accepted password for root from 192.0.2.4 port 1 ssh2"])
    pattern, counts, groups = _scan(lines, {"name": "failed", "regex": "Failed password", "group_by": "ip",
                                            "warn": 20, "strict": True})
    assert counts == {"failed": 66}
    assert groups == {"failed": {"192.0.2.1": 25, "192.0.2.2": 21, "192.0.2.3": 20}}
    findings = log_groups.group_findings(pattern, groups["failed"], 5, "auth.log")
    assert [(f["check"], f["target"], f["status"], f["value"]) for f in findings] == [
        ("log_pattern_failed_by_ip", "192.0.2.1", "warning", 25),
        ("log_pattern_failed_by_ip", "192.0.2.2", "warning", 21)]
    assert findings[0]["threshold"] == {"warn": 20, "crit": None, "direction": "above", "strict": True}
    assert findings[0]["message"] == ("failed lines from ip 192.0.2.1 in the last 5 min is 25 lines, "
                                      "more than the warning threshold of 20")


def test_nobody_over_is_one_ok_naming_the_busiest():
    pattern, _counts, groups = _scan(["Jan 10 11:59:00 x: Failed password for a from 192.0.2.3 port 1"] * 20,
                                     {"name": "failed", "regex": "Failed password", "group_by": "ip", "warn": 20,
                                      "strict": True})
    [finding] = log_groups.group_findings(pattern, groups["failed"], 5, "auth.log")
    assert (finding["status"], finding["value"], finding["target"]) == ("ok", 20, "auth.log")
    assert "most: 192.0.2.3" in finding["message"]
    [empty] = log_groups.group_findings(pattern, {}, 5, "auth.log")
    assert (empty["status"], empty["value"]) == ("ok", 0)


def test_non_strict_counts_the_threshold_itself_and_group_limits_apart():
    pattern, _c, groups = _scan(["2026-01-10T11:59:00Z failed login user=ana ip=192.0.2.5"] * 20,
                                {"name": "f", "regex": "failed login", "group_by": "ip", "warn": 100,
                                 "group_warn": 20, "group_crit": "40"})
    assert (pattern["warn"], pattern["group_warn"], pattern["group_crit"]) == (100, 20, 40)
    [finding] = log_groups.group_findings(pattern, groups["f"], 5, "app.log")
    assert (finding["status"], finding["target"]) == ("warning", "192.0.2.5")


def test_named_group_and_lines_without_a_key():
    _p, _c, groups = _scan(["2026-01-10T11:59:00Z failed login user=ana", "2026-01-10T11:59:01Z failed login user=bo",
                            "2026-01-10T11:59:02Z failed login user=ana", "2026-01-10T11:59:03Z failed login"],
                           {"name": "f", "regex": r"failed login(?: user=(?P<user>\w+))?", "group_by": "user"})
    assert groups == {"f": {"ana": 2, "bo": 1, "(none)": 1}}
    _p, _c, groups = _scan(["2026-01-10T11:59:03Z failed login, no address"], {"name": "f", "regex": "failed",
                                                                              "group_by": "ip"})
    assert groups == {"f": {"(none)": 1}}


@pytest.mark.parametrize("pattern, message", [
    ({"name": "f", "regex": "x", "group_by": "user"},
     "patterns[0] (f): group_by 'user' needs a named group (?P<user>...) in the regex, or group_by: ip"),
    ({"name": "f", "regex": "x", "per_ip": True},
     "patterns[0] (f): unknown key(s) per_ip; expected name, regex, warn, crit, strict, group_by, group_warn, group_crit"),
    ({"name": "f", "regex": "x", "warn": "many"}, "patterns[0] (f): warn must be a number, got 'many'"),
])
def test_bad_patterns(pattern, message):
    with pytest.raises(InvalidInput) as err:
        compile_patterns([pattern])
    assert str(err.value) == message


def test_top_keeps_the_busiest():
    counts = dict(("192.0.2.%d" % i, i) for i in range(1, 80))
    kept = log_groups.top(counts)
    assert len(kept) == log_groups.MAX_GROUPS and list(kept)[:2] == ["192.0.2.79", "192.0.2.78"]
