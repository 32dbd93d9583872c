"""The shortcuts run exactly what their long form runs: the same playbook, extra vars and options.

run_playbook is replaced by a recorder here (the call is what is compared, nothing is run); the real run of
`opsbook backup --verify` against the lab is in tests/integration/test_cli_shortcuts.py.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from opsbook.cli import opsbook
from opsbook.runner import RunResult

VERIFY = json.dumps({"backup_postgres": False, "backup_redis": False, "backup_files_paths": [],
                     "backup_k8s_namespaces": []})
WEEKLY = '{"postgres_maintenance_vacuum_analyze": true, "postgres_maintenance_reindex_database": false}'
MONTHLY = '{"postgres_maintenance_vacuum_analyze": true, "postgres_maintenance_reindex_database": true}'


@pytest.fixture
def calls(monkeypatch):
    recorded = []

    def run_playbook(scenario, playbook, inventories, extravars, **kwargs):
        progress = kwargs.pop("progress")  # a new display object per run
        recorded.append({"progress": type(progress).__name__, "scenario": scenario, "playbook": str(playbook), "inventories": inventories,
                         "extravars": extravars, **{k: v for k, v in kwargs.items() if k != "vault"},
                         "vault": vars(kwargs["vault"])})
        return RunResult(scenario, [str(i) for i in inventories], kwargs.get("check", False),
                         kwargs.get("remediate", False), started=0.0, finished=1.0, runner_status="successful", rc=0)

    monkeypatch.setattr("opsbook.runner.run_playbook", run_playbook)
    return recorded


def invoke(tmp_path, *args, quiet=True):
    result = CliRunner().invoke(opsbook, ["-q", *args] if quiet else list(args), env={"OPSBOOK_STATE_DIR": str(tmp_path), "NO_COLOR": "1"},
                                catch_exceptions=False, standalone_mode=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def inventory(tmp_path):
    path = tmp_path / "hosts.yml"
    path.write_text("all:\n  hosts:\n    db-1:\n")
    return str(path)


@pytest.mark.parametrize("short, long", [
    (["backup"], ["run", "backup"]),
    (["backup", "--verify"], ["run", "backup", "-e", VERIFY]),
    (["maintenance", "weekly"], ["run", "maintenance", "-e", WEEKLY]),
    (["maintenance", "monthly", "--remediate", "--confirm", "etl_production"],
     ["run", "maintenance", "-e", MONTHLY, "--remediate", "--confirm", "etl_production"]),
    (["dr", "rehearse"], ["run", "dr-rehearsal"]),
])
def test_a_shortcut_runs_its_long_form(calls, tmp_path, inventory, short, long):
    common = ["-i", inventory, "-l", "db-1", "-C", "--timeout", "120", "--no-history", "-e", "opsbook_note=x"]
    invoke(tmp_path, *short, *common)
    invoke(tmp_path, *long, *common)
    assert len(calls) == 2
    assert calls[0] == calls[1]
    assert calls[0]["extravars"]["opsbook_note"] == "x" and calls[0]["limit"] == "db-1" and calls[0]["check"]
    assert calls[0]["timeout"] == 120


def test_given_variables_win_over_the_preset(calls, tmp_path):
    invoke(tmp_path, "backup", "--verify", "--no-history", "-e", '{"backup_postgres": true}')
    assert calls[0]["extravars"]["backup_postgres"] is True and calls[0]["extravars"]["backup_redis"] is False


def test_json_report_of_a_shortcut_names_the_scenario(calls, tmp_path):
    result = invoke(tmp_path, "dr", "rehearse", "--json", "--no-history")
    assert json.loads(result.output)["scenario"] == "dr-rehearsal"


@pytest.mark.parametrize("args", [["backup"], ["maintenance"], ["dr", "rehearse"]])
def test_shortcut_help_has_examples_and_run_s_options(args):
    shown = CliRunner().invoke(opsbook, [*args, "--help"], catch_exceptions=False)
    assert shown.exit_code == 0
    assert "Examples:" in shown.output and "= opsbook run " in shown.output
    for option in ("--inventory", "--check", "--remediate", "--confirm", "--json", "--limit", "--extra-vars"):
        assert option in shown.output


def test_maintenance_needs_its_schedule(tmp_path):
    result = CliRunner().invoke(opsbook, ["maintenance", "daily"], env={"OPSBOOK_STATE_DIR": str(tmp_path)})
    assert result.exit_code == 2 and "'daily' is not one of 'weekly', 'monthly'" in result.output


def test_quiet_prints_only_the_report(calls, tmp_path):
    quiet = invoke(tmp_path, "backup", "--verify", "--json")
    assert quiet.stderr == "" and json.loads(quiet.stdout)["scenario"] == "backup"
    told = invoke(tmp_path, "backup", "--verify", "--json", quiet=False)
    assert "running backup against" in told.stderr and " recorded: " in told.stderr
    assert [c["progress"] for c in calls] == ["NoneType", "Progress"]
