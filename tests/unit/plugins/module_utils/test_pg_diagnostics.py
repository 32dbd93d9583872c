import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import diagnostics as pg_diagnostics
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput


@pytest.mark.parametrize(
    "pid, blocked, expected",
    [
        (1, {}, [1]),
        (2, {2: {"blocking_pids": [1]}}, [2, 1]),
        (3, {3: {"blocking_pids": [2]}, 2: {"blocking_pids": [1]}}, [3, 2, 1]),
        (3, {3: {"blocking_pids": [5, 2]}, 2: {"blocking_pids": [1]}}, [3, 2, 1]),
        (1, {1: {"blocking_pids": [2]}, 2: {"blocking_pids": [1]}}, [1, 2]),  # deadlock cycle stops
    ],
)
def test_blocking_chain(pid, blocked, expected):
    assert pg_diagnostics.blocking_chain(pid, blocked) == expected


def test_selected_checks_rejects_unknown_names():
    with pytest.raises(InvalidInput, match="checks: unknown check"):
        pg_diagnostics.selected_checks({"checks": ["connections", "bogus"]})
    assert pg_diagnostics.selected_checks({}) == list(pg_diagnostics.CHECKS)


def test_thresholds_default_to_the_seeds():
    thr = pg_diagnostics.resolve_thresholds({"long_query_seconds": 30, "pool_size": None})
    assert thr["long_query_seconds"] == 30
    assert (thr["connections_warn_pct"], thr["statement_mean_warn_ms"], thr["lock_wait_warn_pct"]) == (80, 100, 5)
