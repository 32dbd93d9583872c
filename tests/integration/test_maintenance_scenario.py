"""`opsbook run maintenance`: PostgreSQL VACUUM ANALYZE and Kafka topic retention in one run, measured by
the real tools (pg_stat_user_tables, Kafka's ConfigCommand); nothing changes without --remediate."""

from __future__ import annotations

import json
import subprocess
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


# The window's silence (issue 15): against the lab's real Alertmanager, compared with `amtool silence query`.
# Only PostgreSQL and Alertmanager are needed (the lab inventory names no retention topics).
WINDOW = 'instance=~"lab-local(:[0-9]+)?"'


@pytest.fixture(scope="module")
def pg_and_alertmanager(alertmanager_lab):
    from opsbook.lab.core import Lab

    Lab(log=lambda *_: None).up(["postgres"])
    return alertmanager_lab


def amtool_silences(am: dict, *args: str) -> list[dict]:
    proc = subprocess.run([am["tools"]["amtool"], f"--alertmanager.url={am['url']}", "silence", "query", "-o", "json",
                           *args], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout or "[]")


def window_silences(am: dict, expired: bool) -> dict:
    found = amtool_silences(am, *(["--expired"] if expired else []))
    return {s["id"]: s for s in found if "opsbook maintenance run" in s["comment"]
            and any(m["name"] == "instance" and m["value"] == "lab-local(:[0-9]+)?" for m in s["matchers"])}


def silence_records(report: dict) -> tuple[list, list]:
    actions = [a for a in report["actions"] if a["action"] in ("silence", "expire_silence")]
    findings = [f for f in report["findings"] if f["check"] == "alertmanager_reachable"]
    return actions, findings


def test_maintenance_silences_its_window_and_expires_it(pg_and_alertmanager):
    am = pg_and_alertmanager
    before = set(window_silences(am, expired=True))
    done = run_cli("run", "maintenance", "--json", "--remediate")
    report = json.loads(done.stdout)
    assert report["run"]["failed"] is False, done.stderr
    actions, findings = silence_records(report)
    assert [(a["action"], a["target"], a["changed"]) for a in actions] == [
        ("silence", WINDOW, True), ("expire_silence", WINDOW, True)]
    assert [f["phase"] for f in findings] == ["remediate", "remediate"]
    new = set(window_silences(am, expired=True)) - before
    assert len(new) == 1, new  # one silence, created then expired: amtool lists it among the expired ones
    [silence] = [window_silences(am, expired=True)[i] for i in new]
    assert silence["createdBy"] == "opsbook" and silence["status"]["state"] == "expired"
    assert silence["id"] in actions[1]["detail"] and "on lab-local" in silence["comment"]
    assert not window_silences(am, expired=False)  # nothing left active
    # the silence is no remediation: the VACUUM is what changed (the outcome is main's for it)
    assert any(a["action"] == "vacuum" and a["changed"] for a in report["actions"])


def test_a_failed_step_still_expires_the_window(pg_and_alertmanager):
    am = pg_and_alertmanager
    before = set(window_silences(am, expired=True))
    failed = run_cli("run", "maintenance", "--json", "--remediate",
                     "-e", '{"postgres_maintenance_reindex_tables": ["no_such_table_in_the_lab"]}')
    report = json.loads(failed.stdout)
    assert failed.returncode == 4 and report["run"]["failed"] is True
    assert [f["task"] for f in report["failures"]] == ["REINDEX tables"]
    actions, _ = silence_records(report)
    assert [a["action"] for a in actions] == ["silence", "expire_silence"]
    assert len(set(window_silences(am, expired=True)) - before) == 1
    assert not window_silences(am, expired=False)


def test_check_mode_creates_no_silence_and_no_alertmanager_is_not_configured(pg_and_alertmanager):
    am = pg_and_alertmanager
    before = set(window_silences(am, expired=True))
    dry = run_cli("run", "maintenance", "--json", "-C", "--remediate")
    actions, _ = silence_records(json.loads(dry.stdout))
    assert [(a["action"], a["dry_run"]) for a in actions] == [("silence", True), ("expire_silence", True)]
    assert set(window_silences(am, expired=True)) == before and not window_silences(am, expired=False)

    bare = run_cli("run", "maintenance", "--json", "-e", '{"opsbook_alertmanager": {}}')
    report = json.loads(bare.stdout)
    actions, findings = silence_records(report)
    assert actions == [] and [f["state"] for f in findings] == ["not_configured"]
    assert "opsbook_alertmanager.url" in findings[0]["message"]
