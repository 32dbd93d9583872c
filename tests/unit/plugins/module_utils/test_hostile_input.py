"""Hostile names and numbers against every builder that turns an option into SQL, a conninfo string,
PromQL, a Kubernetes name or a path: intact, or refused with a message naming the option."""

from __future__ import annotations

import ast
import os
import re

import psycopg2.extensions
import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.paths import join_inside
from ansible_collections.opsbook.runbooks.plugins.module_utils.kubernetes.common import validate_name
from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import backends as pg_backends
from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres.common import conninfo_dbname
from ansible_collections.opsbook.runbooks.plugins.module_utils.prometheus import promql
from ansible_collections.opsbook.runbooks.plugins.module_utils.redis import queue as redis_queue

# quotes, semicolons, spaces, newlines, $( ), ../, *, non-ASCII letters, 4 KB
HOSTILE = [
    'x"; DROP TABLE t; --',
    "it's'; DROP TABLE t; --",
    "two words",
    "line\nbreak\r\ttab",
    "trailing-newline\n",
    "$(touch /tmp/opsbook-pwned)",
    "`id`",
    "../../etc/passwd",
    "*",
    "ação_ñ_日本",
    "back\\slash\\",
    "x host=evil.example port=1",
    "postgresql://evil.example/db",
    "q" * 4096,
]
IDS = [repr(v)[:24] for v in HOSTILE]


# --- PromQL strings -------------------------------------------------------------------------------

@pytest.mark.parametrize("value", HOSTILE + ["", "\x01\x7f"], ids=IDS + ["empty", "control"])
def test_promql_string_literal_keeps_every_character(value):
    literal = promql.string_literal(value)
    assert literal.startswith('"') and literal.endswith('"')
    assert "\n" not in literal  # a raw newline ends a PromQL string
    # PromQL's escapes (\\ \" \n \r \t \xNN) are a subset of Python's: the literal reads back as the value
    assert ast.literal_eval(literal) == value


@pytest.mark.parametrize("value", HOSTILE, ids=IDS)
def test_label_matcher_regex_matches_exactly_the_value(value):
    matcher = promql.label_matcher("route", value, "=~")
    assert matcher.startswith("route=~")
    pattern = ast.literal_eval(matcher[len("route=~"):])
    assert re.fullmatch(pattern, value, re.S)
    assert not re.fullmatch(pattern, value + "x", re.S)


@pytest.mark.parametrize("label", ['route"', "a b", "x;y", "1abc", "ação", "", "l" * 4096 + "-"])
def test_label_matcher_refuses_label_names(label):
    with pytest.raises(InvalidInput, match="^label: "):
        promql.label_matcher(label, "v")


def test_label_matcher_refuses_unknown_operators_and_non_text():
    with pytest.raises(InvalidInput, match="^op: "):
        promql.label_matcher("route", "v", "==")
    with pytest.raises(InvalidInput, match="PromQL string must be text"):
        promql.string_literal(5)


@pytest.mark.parametrize("mount", HOSTILE, ids=IDS)
def test_saturation_mountpoints_stay_literal(mount):
    query = [q for q in promql.saturation_queries(kafka_disk_mountpoints=[mount]) if q["name"] == "kafka_disk_usage"][0]
    literal = re.search(r'mountpoint=~("(?:[^"\\]|\\.)*")', query["query"]).group(1)
    assert re.fullmatch(ast.literal_eval(literal), mount, re.S)


@pytest.mark.parametrize("window", ["5m; drop", "-5m", "0", "", "5m\n", "5" * 4096])
def test_promql_durations_refused_naming_the_option(window):
    with pytest.raises(InvalidInput, match="^window: "):
        promql.latency_queries("http_request_duration_seconds", window=window)


# --- Kubernetes names -----------------------------------------------------------------------------

@pytest.mark.parametrize("value", HOSTILE + ["Upper", "-lead", "trail-", "a_b", "", None, 5], ids=IDS + [
    "upper", "lead", "trail", "underscore", "empty", "none", "int"])
def test_kubernetes_names_refused_naming_the_option(value):
    with pytest.raises(InvalidInput, match=r"^name: .*RFC 1123"):
        validate_name(value, "name")
    with pytest.raises(InvalidInput, match=r"^namespace: .*not a valid Kubernetes namespace"):
        validate_name(value, "namespace", subdomain=False)


def test_kubernetes_name_lengths_and_valid_names():
    assert validate_name("order-service", "name") == "order-service"
    assert validate_name("api.v2", "name") == "api.v2"
    assert validate_name("a" * 253, "name") == "a" * 253
    assert validate_name("a" * 63, "namespace", subdomain=False) == "a" * 63
    for value, subdomain in (("a" * 254, True), ("a" * 64, False), ("api.v2", False)):
        with pytest.raises(InvalidInput):
            validate_name(value, "namespace", subdomain=subdomain)
    with pytest.raises(InvalidInput) as caught:
        validate_name("Q" * 4096, "name")
    assert "(4096 characters)" in str(caught.value) and len(str(caught.value)) < 400


# --- PostgreSQL conninfo (libpq tools' --dbname) --------------------------------------------------

@pytest.mark.parametrize("value", HOSTILE, ids=IDS)
def test_conninfo_dbname_is_only_ever_a_database_name(value):
    # libpq's own parser (PQconninfoParse through psycopg2) reads back exactly one key: the name
    assert psycopg2.extensions.parse_dsn(conninfo_dbname(value)) == {"dbname": value}


@pytest.mark.parametrize("value", ["", "nul\x00byte", None])
def test_conninfo_dbname_refuses_what_is_no_name(value):
    with pytest.raises(InvalidInput, match="^database: "):
        conninfo_dbname(value)


# --- paths ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [n for n in HOSTILE if not n.startswith("../") and "/" not in n], ids=lambda n: repr(n)[:24])
def test_join_inside_keeps_names_that_stay_inside(tmp_path, name):
    assert join_inside(str(tmp_path), name, "dest") == os.path.join(os.path.realpath(str(tmp_path)), name)


@pytest.mark.parametrize("name", ["../x", "../../etc/passwd", "/etc/passwd", "a/../../x", "..", ".", "", "nul\x00",
                                  "../" * 1400])
def test_join_inside_refuses_escapes_naming_the_option(tmp_path, name):
    with pytest.raises(InvalidInput, match="^manifest files"):
        join_inside(str(tmp_path), name, "manifest files[].path")


def test_join_inside_refuses_a_link_that_points_out(tmp_path):
    base = tmp_path / "backup"
    base.mkdir()
    (base / "dump").symlink_to("/etc")
    with pytest.raises(InvalidInput, match="resolves outside"):
        join_inside(str(base), "dump/passwd", "manifest details.dump")


# --- numbers --------------------------------------------------------------------------------------

REDIS_OK = {"queues": ["q"], "samples": 1, "interval": 0, "peek": 0, "requeue_count": 1}


@pytest.mark.parametrize("option,value", [
    ("samples", 0), ("samples", -1), ("samples", 10 ** 18), ("interval", -0.5), ("interval", 1e300),
    ("peek", -1), ("peek", 10 ** 9), ("requeue_count", 0), ("requeue_count", -(10 ** 18)),
    ("length_warn", -1), ("length_crit", -(10 ** 18)),
])
def test_redis_queue_numbers_refused_naming_the_option(option, value):
    with pytest.raises(InvalidInput, match="^%s " % option):
        redis_queue.validate(dict(REDIS_OK, **{option: value}))


@pytest.mark.parametrize("value", [-1, -1e-9, -(10 ** 18)])
def test_pg_backends_negative_duration_refused(value):
    with pytest.raises(InvalidInput, match="^min_duration "):
        pg_backends.compile_criteria({"min_duration": value})


def test_pg_backends_hostile_names_are_matched_as_values_not_sql():
    crit = pg_backends.compile_criteria({"databases": HOSTILE, "users": HOSTILE, "applications": HOSTILE})
    row = {"query_seconds": 1, "state": "active", "database": HOSTILE[0], "user": HOSTILE[4],
           "application_name": HOSTILE[-1], "pid": 1, "query": ""}
    assert pg_backends.matches(row, crit)
    assert not pg_backends.matches(dict(row, database="x"), crit)


# --- refusals become PermissionDenied (a finding), other errors stay ServiceError ------------------

def test_permission_errors_are_told_apart():
    import redis

    from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import PermissionDenied, ServiceError
    from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import permission_finding
    from ansible_collections.opsbook.runbooks.plugins.module_utils.redis.common import response_error

    refused = response_error(redis.exceptions.NoPermissionError("this user has no permissions to run the 'del' command"),
                             ["s3cret"])
    assert isinstance(refused, PermissionDenied) and "'del'" in str(refused)
    other = response_error(redis.exceptions.ResponseError("WRONGTYPE s3cret"), ["s3cret"])
    assert type(other) is ServiceError and "s3cret" not in str(other)
    finding = permission_finding("redis_permission", "127.0.0.1:6379/0", str(refused))
    assert finding["status"] == "critical" and finding["state"] == "permission_denied"
    assert finding["message"].startswith("permission denied on 127.0.0.1:6379/0: ")
