"""One place where inventories reach modules: playbooks/_scenario.yml maps every opsbook_* connection
dictionary to its action group, and every scenario playbook only imports that play for one role."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
SHARED = "_scenario.yml"
# Playbooks that are no scenario of their own: the EDA rulebook's action (respond.yml runs `opsbook respond`)
# and incident.yml, which runs on the controller after a scenario, from the run's report.
# alert_silence.yml is the silence respond puts around a remediating run; alert_cleared.yml the rulebook's action for a
# resolved alert.
NOT_SCENARIOS = ("catalog.yml", SHARED, "respond.yml", "incident.yml", "alert_silence.yml", "alert_cleared.yml")
SCENARIO_PLAYBOOKS = sorted(p.name for p in PLAYBOOKS.glob("*.yml") if p.name not in NOT_SCENARIOS)
ROLES = {p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file()}


def load(path: Path):
    return yaml.safe_load(path.read_text())


def action_groups() -> dict[str, list[str]]:
    return load(ROOT / "meta" / "runtime.yml")["action_groups"]


def connection_dicts() -> set[str]:
    """Every opsbook_<service> dictionary an inventory or a module's documentation names."""
    names = set()
    for path in [*(ROOT / "inventories").rglob("*.yml"), *(ROOT / "plugins" / "doc_fragments").glob("*.py"),
                 ROOT / "README.md"]:
        names.update(re.findall(r"\bopsbook_(postgres|redis|kafka|prometheus|kubernetes|docker)\b", path.read_text()))
    return names


def shared_play() -> dict:
    plays = load(PLAYBOOKS / SHARED)
    assert isinstance(plays, list) and len(plays) == 1
    return plays[0]


def test_shared_play_maps_every_connection_dict_to_its_action_group():
    play = shared_play()
    mapping = play["module_defaults"]
    groups = action_groups()
    # exactly one entry per action group, each the inventory dictionary of the same name or {}
    assert sorted(mapping) == sorted(f"group/opsbook.runbooks.{group}" for group in groups)
    for group in groups:
        assert mapping[f"group/opsbook.runbooks.{group}"] == f"{{{{ opsbook_{group} | default({{}}) }}}}", group
    # every connection dictionary has an action group (and so a module_defaults entry)
    assert connection_dicts() <= set(groups), connection_dicts() - set(groups)
    assert {"postgres", "redis", "kafka", "prometheus", "kubernetes", "docker", "systemd"} <= set(groups)


def test_shared_play_hosts_facts_and_role():
    play = shared_play()
    assert play["hosts"] == "{{ opsbook_hosts | default('all') }}"
    assert play["gather_facts"] is False
    assert set(play) == {"name", "hosts", "gather_facts", "module_defaults", "tasks"}
    [task] = play["tasks"]
    assert task["ansible.builtin.include_role"] == {"name": "opsbook.runbooks.{{ opsbook_scenario_role }}"}


@pytest.mark.parametrize(
    "module, groups",
    [
        ("workload", {"kubernetes", "docker", "systemd"}),
        ("log_scan", {"kubernetes", "docker", "systemd"}),
        ("k8s_config_backup", {"kubernetes"}),
        ("k8s_config_restore", {"kubernetes"}),
        ("prometheus_query", {"prometheus"}),
    ],
)
def test_modules_with_connection_options_are_in_their_groups(module, groups):
    assert {g for g, members in action_groups().items() if module in members} == groups


def test_action_group_members_are_modules_that_take_the_group_options():
    modules = {p.stem for p in (ROOT / "plugins" / "modules").glob("*.py")}
    for group, members in action_groups().items():
        for module in members:
            assert module in modules, f"{group}: {module} is not a module"
            source = (ROOT / "plugins" / "modules" / f"{module}.py").read_text()
            assert f"opsbook.runbooks.{group}" in source, f"{module} does not document the {group} options"


@pytest.mark.parametrize("playbook", SCENARIO_PLAYBOOKS)
def test_scenario_playbook_only_imports_the_shared_play(playbook):
    text = (PLAYBOOKS / playbook).read_text()
    assert "module_defaults" not in text, f"{playbook}: connection options belong in playbooks/{SHARED}"
    plays = yaml.safe_load(text)
    assert isinstance(plays, list) and plays, playbook
    for play in plays:
        assert set(play) <= {"name", "ansible.builtin.import_playbook", "vars", "when"}, (
            f"{playbook}: a scenario playbook is `- name / ansible.builtin.import_playbook: {SHARED} / "
            f"vars: {{opsbook_scenario_role: <role>}}` (and an optional when), got keys {sorted(play)}")
        assert play["name"] and play["ansible.builtin.import_playbook"] == SHARED, playbook
        assert set(play["vars"]) == {"opsbook_scenario_role"}, playbook
        assert play["vars"]["opsbook_scenario_role"] in ROLES, playbook


def test_every_playbook_is_a_catalogued_scenario():
    catalog = load(PLAYBOOKS / "catalog.yml")["scenarios"]
    assert sorted(s["playbook"] for s in catalog if s.get("playbook")) == SCENARIO_PLAYBOOKS
