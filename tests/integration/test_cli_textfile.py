"""Issue 18: `opsbook run --prometheus-textfile` into the lab node exporter's textfile directory, read back
from the lab's Prometheus: the same statuses as the report's findings."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.helpers import lab_state, poll, run_cli
from tests.integration.prom_seed import prom_query

# the exposition's numbers, written out here rather than taken from the code under test
STATUS_NUMBER = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}


@pytest.fixture(scope="module")
def node_textfile():
    """The lab's Prometheus and node exporter only (no PostgreSQL, Redis, Kafka needed here)."""
    from opsbook.lab.core import Lab

    Lab(log=lambda *_: None).up(["prometheus"])
    return lab_state()["services"]["prometheus"]


def test_findings_reach_prometheus_through_the_node_exporter(node_textfile, local_inventory, tmp_path):
    directory = Path(node_textfile["textfile_dir"])
    assert directory.is_dir()
    status = json.loads(run_cli("lab", "status", "--json").stdout)["services"]["prometheus"]
    assert status["textfile_dir"] == str(directory)
    target = directory / "opsbook_disk-space.prom"
    # / is above a 1 % warning (but under 99 % critical); the test's own directory is on the same disk
    variables = {"disk_space_paths": ["/", str(tmp_path)], "disk_space_warn_percent": 1,
                 "disk_space_crit_percent": 99}
    try:
        proc = run_cli("run", "disk-space", "-i", str(local_inventory), "--json", "-e", json.dumps(variables),
                       "--prometheus-textfile", str(directory), timeout=300)
        report = json.loads(proc.stdout)
        assert proc.returncode == 1, proc.stderr  # action_needed, warning
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
        assert not [p.name for p in directory.iterdir() if p.name.startswith(".")]  # no temporary file left

        expected = {}
        for finding in report["findings"]:  # the last finding of each check and target speaks
            expected[(finding["check"], finding.get("target") or "")] = float(STATUS_NUMBER[finding["status"]])
        assert 1.0 in expected.values()
        ended = report["duration"]

        def scraped():
            result = prom_query(node_textfile["url"], 'opsbook_finding_status{scenario="disk-space",host="lab-local"}')
            got = {(r["metric"]["check"], r["metric"].get("target", "")): float(r["value"][1]) for r in result}
            duration = prom_query(node_textfile["url"], 'opsbook_run_duration_seconds{scenario="disk-space"}')
            fresh = duration and float(duration[0]["value"][1]) == ended  # this run's file, not an older one
            return got if fresh and got == expected else None

        assert poll(scraped, timeout=30) == expected
        outcome = prom_query(node_textfile["url"], 'opsbook_run_outcome{scenario="disk-space"}')
        assert [(r["metric"]["outcome"], float(r["value"][1])) for r in outcome] == [("action_needed", 1.0)]
        values = prom_query(node_textfile["url"], 'opsbook_finding_value{scenario="disk-space",check="disk_usage"}')
        assert {r["metric"]["unit"] for r in values} == {"%"}
        errors = prom_query(node_textfile["url"], "node_textfile_scrape_error")
        assert [float(r["value"][1]) for r in errors] == [0.0]
    finally:
        if target.exists():
            os.unlink(target)  # the shared lab's node exporter keeps exposing a file left behind


def test_a_file_the_collector_would_skip_is_a_usage_error(local_inventory, tmp_path):
    proc = run_cli("run", "disk-space", "-i", str(local_inventory), "--prometheus-textfile", str(tmp_path / "m.txt"))
    assert proc.returncode == 64
    assert "--prometheus-textfile" in proc.stderr and "reads only *.prom files" in proc.stderr
    assert list(tmp_path.glob("m.txt*")) == []
