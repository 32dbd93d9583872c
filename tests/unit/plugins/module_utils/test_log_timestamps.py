"""Timestamp parsing of log_scan (pure function, table)."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.workload.log_scan import line_time

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 1, 10, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("line, expected", [
    ("2026-01-10T11:59:00Z ERROR x", datetime.datetime(2026, 1, 10, 11, 59, 0, tzinfo=UTC)),
    ("2026-01-10 11:59:00,123 WARN x", datetime.datetime(2026, 1, 10, 11, 59, 0, tzinfo=UTC)),
    ("[2026-01-10T08:59:00.5-03:00] ERROR x", datetime.datetime(2026, 1, 10, 11, 59, 0, tzinfo=UTC)),
    ("2026-01-10T13:59:00+0200 x", datetime.datetime(2026, 1, 10, 11, 59, 0, tzinfo=UTC)),
    ("Jan 10 11:59:00 host app[1]: x", datetime.datetime(2026, 1, 10, 11, 59, 0, tzinfo=UTC)),
    ("Dec 31 23:00:00 host app[1]: x", datetime.datetime(2025, 12, 31, 23, 0, 0, tzinfo=UTC)),
    ("    at Object.<anonymous> (index.js:1:1)", None),
    ("Foo 10 11:59:00 not a month", None),
])
def test_line_time(line, expected):
    assert line_time(line, NOW) == expected
