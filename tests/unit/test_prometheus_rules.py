"""The alert rules shipped in extensions/prometheus: promtool accepts them and their unit tests
pass (each alert fires over its threshold after `for:`, not under it, not before), and every alert
maps through the catalogue to a scenario (the mapping the EDA rulebook and `opsbook respond` use)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "extensions" / "prometheus"
RULE_FILES = sorted((PROMETHEUS / "rules").glob("*.yml"))
TEST_FILES = sorted((PROMETHEUS / "tests").glob("*_test.yml"))
SYSTEMS = ["conectcrm", "etl", "mlbling", "sparkone", "techbra"]  # one per seed runbook
SEVERITY_OF_PRIORITY = {"P1": "critical", "P2": "critical", "P3": "warning", "P4": "info"}  # Techbra's matrix
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (Debian package prometheus; "
                                    "scripts/bootstrap.sh installs it)")


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def alerts(path: Path) -> list[dict]:
    return [rule for group in load(path)["groups"] for rule in group["rules"] if "alert" in rule]


def promtool(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=120, cwd=cwd, check=False)


CATALOG = {s["name"]: s for s in load(ROOT / "playbooks" / "catalog.yml")["scenarios"]}
ALL_ALERTS = [(path.stem, rule) for path in RULE_FILES for rule in alerts(path)]


def test_one_rule_file_and_one_test_file_per_seed_system():
    assert [p.stem for p in RULE_FILES] == SYSTEMS
    assert [p.name for p in TEST_FILES] == [f"{s}_test.yml" for s in SYSTEMS]
    for test_file in TEST_FILES:
        system = test_file.name.removesuffix("_test.yml")
        assert load(test_file)["rule_files"] == [f"../rules/{system}.yml"], test_file.name


@needs_promtool
@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_promtool_check_rules(path):
    proc = promtool("check", "rules", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"SUCCESS: {len(load(path)['groups'][0]['rules'])} rules found" in proc.stdout


@needs_promtool
@pytest.mark.parametrize("path", TEST_FILES, ids=lambda p: p.name)
def test_promtool_test_rules(path):
    proc = promtool("test", "rules", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


@needs_promtool
@pytest.mark.parametrize("system", SYSTEMS)
def test_unit_tests_see_the_for_durations(system, tmp_path):
    """The unit tests can fail: with every `for:` removed, the 'not before for:' checks do."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "tests").mkdir()
    text = (PROMETHEUS / "rules" / f"{system}.yml").read_text()
    (tmp_path / "rules" / f"{system}.yml").write_text(re.sub(r"(?m)^\s+for: .*\n", "", text))
    shutil.copy(PROMETHEUS / "tests" / f"{system}_test.yml", tmp_path / "tests")
    proc = promtool("test", "rules", f"tests/{system}_test.yml", cwd=tmp_path)
    assert proc.returncode != 0 and "FAILED" in proc.stdout + proc.stderr


@pytest.mark.parametrize("path", TEST_FILES, ids=lambda p: p.name)
def test_every_alert_is_tested_firing_and_not_firing(path):
    system = path.name.removesuffix("_test.yml")
    fired, quiet = set(), set()
    for case in load(path)["tests"]:
        for check in case.get("alert_rule_test", []):
            (fired if check["exp_alerts"] else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in alerts(PROMETHEUS / "rules" / f"{system}.yml")}
    assert names - fired == set(), "alerts never tested firing"
    assert names - quiet == set(), "alerts never tested quiet (under the threshold / before for:)"


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_alert_names_unique_per_file(path):
    names = [rule["alert"] for rule in alerts(path)]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(("system", "rule"), ALL_ALERTS, ids=[f"{s}:{r['alert']}" for s, r in ALL_ALERTS])
def test_alert_labels_and_annotations(system, rule):
    labels, annotations = rule["labels"], rule["annotations"]
    assert labels["severity"] in ("critical", "warning", "info")
    assert labels["scenario"] in CATALOG, f"scenario {labels['scenario']!r} is not in playbooks/catalog.yml"
    assert labels["system"] == system
    if "priority" in labels:
        assert SEVERITY_OF_PRIORITY[labels["priority"]] == labels["severity"]
    assert set(annotations) >= {"summary", "description", "runbook"}
    assert re.search(r"\{\{ \$(labels\.\w+|value)", annotations["description"])
    assert annotations["runbook"].split(" runbook")[0] in ("ConectCRM", "ETL", "ML Bling", "SparkOne", "Techbra")


@pytest.mark.parametrize(("system", "rule"), ALL_ALERTS, ids=[f"{s}:{r['alert']}" for s, r in ALL_ALERTS])
def test_expressions_survive_time_compression(system, rule):
    """The lab loads these with for: and ranges scaled down: keep plain [Nm]-style ranges, no
    subqueries or offsets whose steps would not scale with them."""
    expr = rule["expr"]
    assert all(re.fullmatch(r"\d+[smhd]", r) for r in re.findall(r"\[([^\]]*)\]", expr)), expr
    assert " offset " not in expr and "@" not in expr
    assert re.fullmatch(r"\d+[smh]", rule.get("for", "0m"))


def test_catalogue_alerts_and_rule_files_agree():
    """Alert -> scenario through the catalogue is complete both ways, and one name means one scenario."""
    scenarios_of = defaultdict(set)
    for _system, rule in ALL_ALERTS:
        scenarios_of[rule["alert"]].add(rule["labels"]["scenario"])
    assert {name: s for name, s in scenarios_of.items() if len(s) > 1} == {}
    catalogued = {alert: name for name, entry in CATALOG.items() for alert in entry.get("alerts") or []}
    assert sorted(set(catalogued) - set(scenarios_of)) == [], "catalogue alerts without a rule"
    assert sorted(set(scenarios_of) - set(catalogued)) == [], "rules missing from the catalogue's alerts"
    assert {a: catalogued[a] for a in scenarios_of if catalogued[a] not in scenarios_of[a]} == {}
