"""Pure parts of redis_queue and redis_diagnostics: trend, option checks, latency judgement."""

from __future__ import annotations

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.redis import diagnostics as redis_diagnostics
from ansible_collections.opsbook.runbooks.plugins.module_utils.redis import queue as redis_queue
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput


@pytest.mark.parametrize(
    "points, expected",
    [
        ([], {"rate_per_sec": None, "trend": "empty", "eta_seconds": None}),
        ([(0, 5)], {"rate_per_sec": None, "trend": "unknown", "eta_seconds": None}),
        ([(0, 0), (2, 0)], {"rate_per_sec": 0.0, "trend": "empty", "eta_seconds": 0}),
        ([(0, 100), (2, 140)], {"rate_per_sec": 20.0, "trend": "growing", "eta_seconds": None}),
        ([(0, 100), (1, 90), (2, 80)], {"rate_per_sec": -10.0, "trend": "draining", "eta_seconds": 8.0}),
        ([(0, 10), (4, 0)], {"rate_per_sec": -2.5, "trend": "draining", "eta_seconds": 0}),
        ([(0, 7), (3, 7)], {"rate_per_sec": 0.0, "trend": "stalled", "eta_seconds": None}),
    ],
)
def test_trend(points, expected):
    assert redis_queue.trend(points) == expected


def test_celery_member_keys():
    keys = redis_queue.member_keys("celery", celery=True)
    assert keys[0] == "celery" and keys[1] == "celery\x06\x161" and len(keys) == 10
    assert redis_queue.member_keys("celery", celery=False) == ["celery"]


def test_stream_backlog_is_the_worst_group():
    groups = [{"lag": 3, "pending": 2}, {"lag": 0, "pending": 1}, {"lag": None, "pending": 0}]
    assert redis_queue._stream_backlog(10, groups) == 10  # lag unknown: the whole stream
    assert redis_queue._stream_backlog(10, groups[:2]) == 5
    assert redis_queue._stream_backlog(10, []) == 10


BASE = dict(queues=["q"], samples=3, interval=1.0, peek=0, requeue_count=100, length_warn=100, length_crit=1000)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"purge": "q"}, "purge: refusing to delete queue 'q' without confirmation: set confirm to the exact "
                         "queue name 'q' (got None)"),
        ({"purge": "q", "confirm": "Q"}, "got 'Q'"),
        ({"flushdb": True, "db": 3, "confirm": "db0"}, "set confirm to 'db3' (got 'db0')"),
        ({"flushdb": True, "url": "redis://x/0", "confirm": "db0"}, "flushdb: give host/port/db rather than url"),
        ({"peek": 101}, "peek must be between 0 and 100, got 101"),
        ({"requeue_count": 0}, "requeue_count must be between 1 and 100000, got 0"),
        ({"queues": [""]}, "queues: queue names must not be empty"),
    ],
)
def test_validate_refuses(changes, message):
    with pytest.raises(InvalidInput) as info:
        redis_queue.validate(dict(BASE, **changes))
    assert message in str(info.value)


def test_validate_accepts_a_confirmed_purge_and_flush():
    redis_queue.validate(dict(BASE, purge="q", confirm="q"))
    redis_queue.validate(dict(BASE, queues=[], flushdb=True, db=3, confirm="db3"))


@pytest.mark.parametrize(
    "events, status, value",
    [
        ([], "ok", 0),
        ([{"event": "command", "time": 1000 - 600, "latest_ms": 900, "max_ms": 900}], "ok", 0),  # too old
        ([{"event": "command", "time": 1000 - 10, "latest_ms": 150, "max_ms": 900}], "warning", 150),
        ([{"event": "fork", "time": 1000 - 10, "latest_ms": 600, "max_ms": 600},
          {"event": "command", "time": 1000 - 5, "latest_ms": 120, "max_ms": 120}], "critical", 600),
    ],
)
def test_latency_spikes_only_count_when_recent(events, status, value):
    finding = redis_diagnostics._latency_finding(events, None, 1000, redis_diagnostics.DEFAULT_THRESHOLDS, "t")
    assert (finding["status"], finding["value"]) == (status, value)


def test_latency_not_permitted_is_unknown():
    finding = redis_diagnostics._latency_finding(None, "NOPERM", 1000, redis_diagnostics.DEFAULT_THRESHOLDS, "t")
    assert finding["status"] == "unknown" and "NOPERM" in finding["message"]
