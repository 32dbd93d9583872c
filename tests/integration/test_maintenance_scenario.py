"""`opsbook run maintenance`: PostgreSQL VACUUM ANALYZE and Kafka topic retention in one run, measured by
the real tools (pg_stat_user_tables, Kafka's ConfigCommand); nothing changes without --remediate."""

from __future__ import annotations

import json
import uuid

import psycopg2
import pytest

from tests.helpers import run_cli
from tests.kafka_lab import scratch, tool_topic_overrides  # noqa: F401 - scratch is a fixture

pytestmark = pytest.mark.lab


def vacuum_counts(pg_params, table):
    with psycopg2.connect(**pg_params) as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_stat_force_next_flush()")
        cur.execute("SELECT vacuum_count, analyze_count FROM pg_stat_user_tables WHERE relname = %s", (table,))
        return cur.fetchone()


@pytest.fixture
def pg_table(pg_params):
    table = "maint_" + uuid.uuid4().hex[:8]
    conn = psycopg2.connect(**pg_params)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLE {table} (id int)")
        cur.execute(f"INSERT INTO {table} SELECT generate_series(1, 1000)")
        cur.execute(f"DELETE FROM {table} WHERE id % 2 = 0")
    yield table
    with conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {table}")
    conn.close()


def test_maintenance_measures_then_vacuums_and_sets_retention(lab, scratch, pg_params, pg_table):
    topic = scratch.topic(partitions=1, config={"retention.ms": "86400000"})
    variables = json.dumps({"kafka_retention_topics": [topic]})
    before = vacuum_counts(pg_params, pg_table)

    dry = run_cli("run", "maintenance", "--json", "-e", variables)
    assert json.loads(dry.stdout)["run"]["failed"] is False, dry.stderr
    assert vacuum_counts(pg_params, pg_table) == before
    assert "retention.ms=86400000 " in tool_topic_overrides(lab["services"]["kafka"], topic)

    done = run_cli("run", "maintenance", "--json", "--remediate", "-e", variables)
    report = json.loads(done.stdout)
    assert report["run"]["failed"] is False, done.stderr
    after = vacuum_counts(pg_params, pg_table)
    assert after[0] == before[0] + 1 and after[1] == before[1] + 1  # one VACUUM (ANALYZE) of the database
    assert "retention.ms=604800000 " in tool_topic_overrides(lab["services"]["kafka"], topic)  # Techbra: 7 days
