"""Keep documentation and code from drifting: doc fragments vs common argument specs,
role defaults vs role argument specs, every module documented and check-mode aware."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
import yaml

from ansible_collections.opsbook.runbooks.plugins.module_utils.docker import common as docker_engine
from ansible_collections.opsbook.runbooks.plugins.module_utils.kubernetes import common as k8s_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import common as kafka_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import common as postgres
from ansible_collections.opsbook.runbooks.plugins.module_utils.prometheus import common as prometheus
from ansible_collections.opsbook.runbooks.plugins.module_utils.redis import common as redis_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.workload import systemd_backend

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if p.is_dir())


def fragment_options(name: str) -> dict:
    module = importlib.import_module(f"ansible_collections.opsbook.runbooks.plugins.doc_fragments.{name}")
    return yaml.safe_load(module.ModuleDocFragment.DOCUMENTATION)["options"]


@pytest.mark.parametrize(
    "fragment, spec",
    [
        ("postgres", postgres.postgres_common_argument_spec()),
        ("redis", redis_common.redis_common_argument_spec()),
        ("kafka", kafka_common.kafka_common_argument_spec()),
        ("kubernetes", k8s_common.kubernetes_common_argument_spec()),
        ("docker", docker_engine.docker_common_argument_spec()),
        ("prometheus", prometheus.prometheus_common_argument_spec()),
        ("systemd", systemd_backend.systemd_argument_spec()),
    ],
)
def test_doc_fragment_matches_common_argument_spec(fragment, spec):
    docs = fragment_options(fragment)
    assert sorted(docs) == sorted(spec)
    for name, option in spec.items():
        doc = docs[name]
        assert doc["type"] == option["type"], name
        assert doc.get("default") == option.get("default"), name
        assert doc.get("choices") == option.get("choices"), name
        assert doc.get("elements") == option.get("elements"), name
        assert sorted(doc.get("aliases", [])) == sorted(option.get("aliases", [])), name
        text = " ".join(doc["description"]) if isinstance(doc["description"], list) else doc["description"]
        assert ("Never logged" in text) == bool(option.get("no_log")), f"{name}: no_log must be documented"


@pytest.mark.parametrize("module", MODULES)
def test_module_is_documented_and_supports_check_mode(module):
    source = (ROOT / "plugins" / "modules" / f"{module}.py").read_text()
    tree = ast.parse(source)
    assigned = {t.id: node.value for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
                if isinstance(t, ast.Name)}
    for block in ("DOCUMENTATION", "EXAMPLES", "RETURN"):
        assert block in assigned, f"{module} lacks {block}"
        yaml.safe_load(assigned[block].value)
    doc = yaml.safe_load(assigned["DOCUMENTATION"].value)
    assert doc["module"] == module
    assert "supports_check_mode=True" in source
    assert f"opsbook.runbooks.{module}:" in assigned["EXAMPLES"].value


@pytest.mark.parametrize("role", ROLES)
def test_role_defaults_equal_argument_spec_defaults(role):
    spec = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    options = spec["argument_specs"]["main"]["options"]
    defaults_file = ROOT / "roles" / role / "defaults" / "main.yml"
    defaults = yaml.safe_load(defaults_file.read_text()) if defaults_file.exists() else {}
    defaults = defaults or {}
    spec_defaults = {name: opt["default"] for name, opt in options.items() if "default" in opt}
    assert defaults == spec_defaults
    for name in defaults:
        assert name.startswith(role + "_"), f"{name} must carry the role prefix {role}_"


def test_catalog_playbooks_exist():
    catalog = yaml.safe_load((ROOT / "playbooks" / "catalog.yml").read_text())["scenarios"]
    names = [s["name"] for s in catalog]
    assert len(names) == len(set(names))
    for scenario in catalog:
        if scenario.get("playbook"):
            assert (ROOT / "playbooks" / scenario["playbook"]).is_file(), scenario["name"]


def test_boolean_role_variables_are_read_through_bool():
    """`-e dr_rehearsal_redis=false` arrives as the string "false" (as with ansible-playbook): a role
    reads its bool variables through `| bool` in conditions, or a string would count as true."""
    import re

    offenders = []
    for spec in sorted((ROOT / "roles").glob("*/meta/argument_specs.yml")):
        role = spec.parts[-3]
        options = yaml.safe_load(spec.read_text())["argument_specs"]["main"].get("options") or {}
        flags = [name for name, opt in options.items() if opt.get("type") == "bool"]
        for path in sorted((ROOT / "roles" / role).glob("tasks/*.yml")) + sorted((ROOT / "roles" / role).glob("vars/*.yml")):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if line.strip().startswith("#") or re.match(r'^\s*[a-z0-9_]+: "\{\{ [a-z0-9_]+ \}\}"$', line):
                    continue  # a module option of type bool converts the string itself
                for flag in flags:
                    if re.search(r"\b%s\b(?!\s*\|\s*bool)" % flag, line):
                        offenders.append("%s:%d %s" % (path.relative_to(ROOT), number, line.strip()))
    assert not offenders, "\n".join(offenders)
