"""The collection's execution-environment metadata (meta/execution-environment.yml, read by
ansible-builder) declares every third-party package the plugins import, and nothing else, and
the client tools of the modules as bindep entries for Debian and RPM platforms."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys

import yaml
from packaging.requirements import Requirement

from tests.helpers import REPO

META = REPO / "meta"


def _ee():
    return yaml.safe_load((META / "execution-environment.yml").read_text())


def _lines(path):
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


def _imported_top_level_modules():
    """Top-level names of every import in plugins/ (at any depth: optional imports sit in try blocks)."""
    found = {}
    for path in sorted((REPO / "plugins").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], path.relative_to(REPO))
    return found


def _third_party_distributions():
    """{distribution name: a file importing it} for imports that are neither stdlib nor Ansible's own."""
    dists = importlib.metadata.packages_distributions()
    out = {}
    for module, where in _imported_top_level_modules().items():
        if module in sys.stdlib_module_names or module in ("__future__", "ansible", "ansible_collections"):
            continue
        assert module in dists, f"{where} imports {module}, which no installed distribution provides"
        for dist in dists[module]:
            out[canonical(dist)] = where
    return out


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _ansible_core_requirements():
    return {canonical(Requirement(r).name) for r in importlib.metadata.requires("ansible-core") or []
            if "extra ==" not in r}


def test_ee_metadata_points_at_files_that_exist():
    deps = _ee()["dependencies"]
    assert set(deps) == {"python", "system"}
    for key in ("python", "system"):
        assert (REPO / deps[key]).is_file(), deps[key]


def test_python_requirements_are_exactly_the_plugins_third_party_imports():
    declared = {canonical(Requirement(line).name): Requirement(line) for line in _lines(REPO / _ee()["dependencies"]["python"])}
    imported = _third_party_distributions()
    missing = {d: str(w) for d, w in imported.items() if d not in declared and d not in _ansible_core_requirements()}
    assert not missing, f"imported but not in the EE requirements: {missing}"
    unused = set(declared) - set(imported)
    assert not unused, f"declared but imported by no plugin: {unused}"
    assert {"confluent-kafka", "psycopg2-binary", "redis", "kubernetes", "jmespath", "cryptography"} <= set(declared)
    for req in declared.values():  # collections may not pin or cap (they would clash with others in one EE)
        assert all(spec.operator == ">=" for spec in req.specifier), str(req)


def test_python_requirements_agree_with_the_package_lower_bounds():
    """The pip package (pyproject.toml) and the EE ask for the same minimum versions."""
    import tomllib

    project = {canonical(Requirement(r).name): Requirement(r)
               for r in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]}
    for line in _lines(REPO / _ee()["dependencies"]["python"]):
        req = Requirement(line)
        if canonical(req.name) in project:
            lower = {s.version for s in project[canonical(req.name)].specifier if s.operator == ">="}
            assert {s.version for s in req.specifier} == lower, (str(req), str(project[canonical(req.name)]))


def test_bindep_names_the_client_tools_per_platform():
    entries = {}
    for line in _lines(REPO / _ee()["dependencies"]["system"]):
        match = re.fullmatch(r"([a-z0-9.+-]+) \[platform:(dpkg|rpm)\]", line)
        assert match, f"not a package with a platform selector: {line!r}"
        entries.setdefault(match.group(2), set()).add(match.group(1))
    assert entries["dpkg"] == {"postgresql-client", "redis-tools"}
    assert entries["rpm"] == {"postgresql", "redis"}

