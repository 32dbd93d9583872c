"""Packaging: a regular wheel install carries the collection (with galaxy.yml), Ansible finds
it with no settings from any directory, and `ansible-galaxy collection build` works."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import REPO

BIN = Path(sys.executable).parent
GALAXY_VERSION = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]


@pytest.fixture(scope="module")
def wheel_target(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out),
                    str(REPO)], check=True, capture_output=True)
    wheel = next(out.glob("opsbook-*.whl"))
    target = out / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    return target


def test_wheel_carries_collection_and_galaxy_yml(wheel_target):
    root = wheel_target / "ansible_collections" / "opsbook" / "runbooks"
    for part in ("galaxy.yml", "meta/runtime.yml", "plugins/modules/pg_health.py", "roles/health_check/tasks/main.yml",
                 "playbooks/catalog.yml", "inventories/lab/hosts.yml", "extensions/prometheus/rules/conectcrm.yml",
                 "extensions/prometheus/tests/conectcrm_test.yml"):
        assert (root / part).is_file(), part
    assert (wheel_target / "opsbook" / "cli.py").is_file()


def test_wheel_ships_the_report_schema(wheel_target):
    """The published schema comes with the package, loadable through opsbook.schema from the wheel."""
    env = dict(os.environ, PYTHONPATH=str(wheel_target))
    code = ("import opsbook.schema as s, json; print(s.__file__); print(s.report_schema()['title']); "
            "print(json.dumps(s.report_errors({'schema': 'opsbook.report/v1'})[:1]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, cwd="/")
    path, title, errors = proc.stdout.splitlines()
    assert path.startswith(str(wheel_target)) and title == "opsbook.report/v2"
    assert "is a required property" in errors or "was expected" in errors


def test_installed_collection_is_visible_from_any_directory(wheel_target, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(wheel_target))  # ahead of the editable checkout
    proc = subprocess.run([str(BIN / "ansible-doc"), "-l", "opsbook.runbooks"], capture_output=True, text=True,
                          env=env, cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr
    for module in ("pg_health", "redis_health", "kafka_cluster_info"):
        assert f"opsbook.runbooks.{module}" in proc.stdout
    proc = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "list", "opsbook.runbooks"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
    assert str(wheel_target) in proc.stdout and GALAXY_VERSION in proc.stdout


def test_galaxy_build_and_install(tmp_path):
    build = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path), str(REPO)],
                           capture_output=True, text=True, cwd=tmp_path, check=False)
    assert build.returncode == 0, build.stderr
    tarball = next(tmp_path.glob("opsbook-runbooks-*.tar.gz"))
    install = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--force", "-p",
                              str(tmp_path / "cols"), str(tarball)], capture_output=True, text=True, cwd=tmp_path,
                             check=False)
    assert install.returncode == 0, install.stderr
    installed = tmp_path / "cols" / "ansible_collections" / "opsbook" / "runbooks"
    assert (installed / "plugins" / "modules" / "pg_health.py").is_file()
    assert sorted(p.name for p in (installed / "extensions" / "prometheus" / "rules").glob("*.yml")) == [
        "conectcrm.yml", "etl.yml", "mlbling.yml", "sparkone.yml", "techbra.yml"]
    assert not (installed / ".venv").exists() and not (installed / "cli").exists()
