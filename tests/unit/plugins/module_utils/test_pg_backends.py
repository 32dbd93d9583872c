import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import backends as pg_backends
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput

ROW = {"pid": 7, "query_seconds": 40.0, "state": "active", "database": "crm", "user": "app",
       "application_name": "api", "query": "SELECT * FROM tickets"}


@pytest.mark.parametrize(
    "criteria, expected",
    [
        ({}, True),
        ({"min_duration": 30}, True),
        ({"min_duration": 41}, False),
        ({"states": ["idle"]}, False),
        ({"databases": ["crm"], "users": ["app"], "applications": ["api"], "pids": [7]}, True),
        ({"databases": ["other"]}, False),
        ({"query_regex": "tickets$"}, True),
        ({"query_regex": "^UPDATE"}, False),
    ],
)
def test_matches(criteria, expected):
    crit = pg_backends.compile_criteria(criteria)
    assert pg_backends.matches(ROW, crit) is expected


def test_min_duration_skips_backends_without_a_query():
    crit = pg_backends.compile_criteria({"min_duration": 0})
    assert pg_backends.matches(dict(ROW, query_seconds=None), crit) is False


def test_has_criteria():
    assert not pg_backends.has_criteria(pg_backends.compile_criteria({"states": []}))
    assert pg_backends.has_criteria(pg_backends.compile_criteria({"min_duration": 0}))


def test_bad_regex_names_the_option():
    with pytest.raises(InvalidInput, match="query_regex"):
        pg_backends.compile_criteria({"query_regex": "[unclosed"})
