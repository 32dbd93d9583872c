"""backup_postgres: fingerprint comparison and option validation (pure functions)."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.backup import postgres as bp
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput

BASE = {
    "tables": [{"schema": "public", "name": "a", "rows": 3, "checksum": "x1"},
               {"schema": "etl", "name": "b", "rows": 0, "checksum": "x2"}],
    "sequences": [{"schema": "public", "name": "a_id_seq", "last_value": 3}],
    "large_objects": {"count": 1, "checksum": "lo"},
}


def changed(path, value):
    data = copy.deepcopy(BASE)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize("actual, expected", [
    (BASE, []),
    (changed(("tables", 0, "rows"), 2), ["table public.a has 2 rows, the backup 3"]),
    (changed(("tables", 0, "checksum"), "zz"), ["table public.a content checksum differs from the backup"]),
    (changed(("tables",), BASE["tables"][:1]), ["table etl.b is missing"]),
    (changed(("sequences", 0, "last_value"), 9), ["sequence public.a_id_seq is at 9, the backup 3"]),
    (changed(("large_objects",), {"count": 0, "checksum": "lo"}), ["0 large objects, the backup 1"]),
    (changed(("large_objects", "checksum"), "other"), ["large object content differs from the backup"]),
])
def test_compare_fingerprints(actual, expected):
    assert bp.compare_fingerprints(BASE, actual) == expected


def test_counts_only_backup_ignores_checksums():
    expected = changed(("tables", 0, "checksum"), None)
    assert bp.compare_fingerprints(expected, changed(("tables", 0, "checksum"), "anything")) == []


@pytest.mark.parametrize("override, option", [
    ({"jobs": 2}, "jobs"),
    ({"jobs": 0, "format": "directory"}, "jobs"),
    ({"compress": 10}, "compress"),
    ({"exec_in": {"pod": "db-0"}}, "exec_in"),
])
def test_backup_options_are_validated(override, option):
    params = dict(format="custom", jobs=1, compress=6, dump_timeout=60, exec_in=None)
    params.update(override)
    with pytest.raises(InvalidInput, match="^%s:" % option):
        bp.validate_backup_params(params)


@pytest.mark.parametrize("override, option", [
    ({"target_database": "bad name;"}, "target_database"),
    ({"mode": "replace", "confirm": "other"}, "confirm"),
    ({"mode": "replace"}, "confirm"),
])
def test_restore_options_are_validated(override, option):
    params = dict(target_database="shop_restored", mode="create", confirm=None, jobs=1, exec_in=None)
    params.update(override)
    with pytest.raises(InvalidInput, match="^%s:" % option):
        bp.validate_restore_params(params)


def test_password_only_in_the_environment():
    params = {"host": "db", "port": 5432, "user": "u", "password": "s3cret", "sslmode": "disable",
              "connect_timeout": 3}
    assert "s3cret" not in " ".join(bp.connection_args(params, "shop"))
    assert bp.tool_env(params)["PGPASSWORD"] == "s3cret"
