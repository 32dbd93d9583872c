"""The Galaxy tarball (`ansible-galaxy collection build`) holds exactly the collection: every
module, plugin, role, playbook and the EE metadata, and nothing of the development tree."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from tests.helpers import REPO

BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((REPO / "galaxy.yml").read_text())
# What a collection is: the only top-level entries the tarball may have.
COLLECTION_TOP = {"MANIFEST.json", "FILES.json", "README.md", "CHANGELOG.rst", "meta", "plugins", "roles",
                  "playbooks", "extensions", "inventories", "changelogs", "docs"}
# build_ignore entries for what tools create and git never tracks (and git itself).
GENERATED = {".git", ".venv", ".ansible", ".pytest_cache", ".cache", "dist", "build", "*.egg-info", "*.tar.gz"}


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    out = tmp_path_factory.mktemp("galaxy")
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(out), str(REPO)],
                   check=True, capture_output=True, text=True)
    tarball = out / f"opsbook-runbooks-{GALAXY['version']}.tar.gz"
    with tarfile.open(tarball) as tar:
        return {m.name.rstrip("/") for m in tar.getmembers()}


def tracked():
    return subprocess.run(["git", "ls-files"], cwd=REPO, check=True, capture_output=True, text=True).stdout.split()


def test_tarball_top_level_is_the_collection_only(members):
    top = {name.split("/")[0] for name in members}
    assert top == COLLECTION_TOP, f"unexpected: {top - COLLECTION_TOP}, missing: {COLLECTION_TOP - top}"


@pytest.mark.parametrize("entry", GALAXY["build_ignore"])
def test_ignored_paths_are_not_in_the_tarball(members, entry):
    inside = [m for m in members if fnmatch.fnmatch(m, entry) or m.startswith(entry.rstrip("/") + "/")]
    assert not inside, inside[:5]


@pytest.mark.parametrize("entry", GALAXY["build_ignore"])
def test_build_ignore_names_something_that_exists(entry):
    """Kept current: each entry is a tool's output or matches a tracked path (not a folder of the past)."""
    if entry in GENERATED:
        return
    assert any(fnmatch.fnmatch(p, entry) or p.startswith(entry + "/") for p in tracked()), entry


def test_no_caches_or_bytecode_in_the_tarball(members):
    assert not [m for m in members if "__pycache__" in m or m.endswith((".pyc", ".retry", ".orig"))]


def test_every_tracked_collection_file_is_in_the_tarball(members):
    """Every module, plugin, role file, playbook, extension, inventory and meta file the checkout tracks."""
    shipped = [p for p in tracked() if p.split("/")[0] in COLLECTION_TOP]
    assert len(shipped) > 300
    missing = [p for p in shipped if p not in members]
    assert not missing, missing[:10]


def test_every_role_and_module_is_in_the_tarball(members):
    roles = sorted(p.name for p in (REPO / "roles").iterdir() if p.is_dir())
    modules = sorted(p.name for p in (REPO / "plugins" / "modules").glob("*.py") if p.name != "__init__.py")
    assert len(roles) > 20 and len(modules) > 30
    for role in roles:
        assert f"roles/{role}/meta/argument_specs.yml" in members, role
        assert f"roles/{role}/tasks/main.yml" in members, role
    for module in modules:
        assert f"plugins/modules/{module}" in members, module
    for part in ("meta/runtime.yml", "meta/execution-environment.yml", "meta/ee-requirements.txt",
                 "meta/ee-bindep.txt", "playbooks/_scenario.yml", "playbooks/catalog.yml",
                 "extensions/eda/rulebooks/alertmanager.yml", "inventories/lab/hosts.yml", "changelogs/changelog.yaml"):
        assert part in members, part
