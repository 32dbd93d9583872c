"""The CLI's promises: vault options, the environment allow-list, extra vars as strings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import OPSBOOK, run_cli

VAULT_PASSWORD = "opsbook-test-vault"


def vault_encrypt(text: str, password_file: Path, vault_id: str | None = None) -> str:
    """``ansible-vault encrypt_string`` - the tool an SRE uses - of ``text``."""
    label = f"{vault_id}@{password_file}" if vault_id else None
    args = [str(Path(sys.executable).with_name("ansible-vault")), "encrypt_string", "--name", "password"]
    args += ["--vault-id", label] if label else ["--vault-password-file", str(password_file)]
    out = subprocess.run(args + ["--", text], capture_output=True, text=True, check=True, timeout=60)
    return out.stdout.split(":", 1)[1]  # "password: !vault |\n  $ANSIBLE_VAULT..."


@pytest.fixture
def vaulted_inventory(lab, tmp_path):
    """A host whose Redis password is vaulted (the lab's real one), and the vault password's file."""
    secret = tmp_path / "vault-pass"
    secret.write_text(VAULT_PASSWORD + "\n")
    redis = lab["services"]["redis"]
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  hosts:\n    vaulted:\n      ansible_connection: local\n"
        f"      ansible_python_interpreter: {sys.executable}\n"
        "      opsbook_redis:\n"
        f"        host: 127.0.0.1\n        port: {redis['port']}\n        username: {redis['user']}\n"
        "        password:" + vault_encrypt(redis["password"], secret).replace("\n", "\n    ") + "\n")
    return inventory, secret


def redis_status(proc) -> str:
    report = json.loads(proc.stdout)
    return {f["check"]: f["status"] for f in report["findings"]}.get("redis_reachable")


def test_vault_password_file_ask_vault_pass_and_vault_id(vaulted_inventory, lab):
    inventory, secret = vaulted_inventory
    base = ("run", "redis-health", "-i", str(inventory), "--json")
    by_file = run_cli(*base, "--vault-password-file", str(secret))
    assert redis_status(by_file) == "ok", by_file.stdout[-2000:] + by_file.stderr[-2000:]
    asked = run_cli(*base, "--ask-vault-pass", input=VAULT_PASSWORD + "\n")
    assert redis_status(asked) == "ok", asked.stderr[-2000:]
    by_id = run_cli(*base, "--vault-id", f"lab@{secret}")
    assert redis_status(by_id) == "ok", by_id.stderr[-2000:]
    # the password never reaches the report or the progress
    for proc in (by_file, asked, by_id):
        assert lab["services"]["redis"]["password"] not in proc.stdout + proc.stderr
        assert VAULT_PASSWORD not in proc.stdout + proc.stderr


def test_wrong_or_missing_vault_password_fails_the_run_clearly(vaulted_inventory):
    inventory, secret = vaulted_inventory
    wrong = run_cli("run", "redis-health", "-i", str(inventory), "--ask-vault-pass", input="not-it\n")
    assert wrong.returncode == 4, wrong.stdout + wrong.stderr
    assert "Decryption failed" in wrong.stdout or "decrypt" in wrong.stdout.lower()
    missing = run_cli("run", "redis-health", "-i", str(inventory), "--vault-password-file", str(secret) + ".nope")
    assert missing.returncode == 64 and "--vault-password-file" in missing.stderr
    bad_id = run_cli("run", "redis-health", "-i", str(inventory), "--vault-id", "no-at-sign")
    assert bad_id.returncode == 64 and "expected LABEL@SOURCE" in bad_id.stderr


def local_inventory(tmp_path: Path) -> Path:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    return inventory


def env_playbook(tmp_path: Path) -> Path:
    playbook = tmp_path / "env.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.debug:\n        var: findings\n      vars:\n        findings:\n"
        "          - {check: env_seen, status: ok, value: null, state: null, threshold: null, unit: null, target: null,\n"
        "             message: \"leak={{ lookup('env', 'OPSBOOK_TEST_LEAK') }} k8s={{ lookup('env', 'K8S_AUTH_HOST') }}\"}\n")
    return playbook


def test_only_allow_listed_environment_reaches_ansible(tmp_path, monkeypatch):
    """ansible-runner copies os.environ; the run really sees only the allow-list (plus K8S_AUTH_*)."""
    from opsbook.runner import run_playbook

    monkeypatch.setenv("OPSBOOK_TEST_LEAK", "s3cret")
    monkeypatch.setenv("K8S_AUTH_HOST", "https://k8s.example:6443")
    inventory = local_inventory(tmp_path)
    result = run_playbook("env", env_playbook(tmp_path), [inventory], {})
    assert not result.failures, result.failures
    [finding] = result.findings
    assert finding["message"] == "leak= k8s=https://k8s.example:6443"
    assert os.environ["OPSBOOK_TEST_LEAK"] == "s3cret"  # our own environment is back as it was


def test_extra_vars_stay_strings_as_with_ansible_playbook(tmp_path):
    """-e a=010 arrives as the string '010' (ansible-playbook's behaviour), not the octal 8."""
    playbook = tmp_path / "vars.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.debug:\n        var: findings\n      vars:\n        findings:\n"
        "          - {check: var_seen, status: ok, value: null, state: null, threshold: null, unit: null, target: null,\n"
        "             message: \"{{ a | type_debug }}:{{ a }} {{ b | type_debug }}:{{ b }}\"}\n")
    from opsbook.commands.run import parse_extra_vars
    from opsbook.runner import run_playbook

    inventory = local_inventory(tmp_path)
    result = run_playbook("vars", playbook, [inventory], parse_extra_vars(("a=010", '{"b": 10}')))
    assert [f["message"] for f in result.findings] == ["str:010 int:10"]


def test_help_teaches_the_outcome_and_options():
    proc = subprocess.run([OPSBOOK, "run", "--help"], capture_output=True, text=True, timeout=30)
    for text in ("resolved", "not_checked", "--ask-vault-pass", "--vault-password-file", "--vault-id", "-vv"):
        assert text in proc.stdout, text


def test_a_kubernetes_token_in_the_environment_stays_out_of_kept_artifacts(tmp_path, monkeypatch):
    """K8S_AUTH_API_KEY reaches Ansible (kubernetes.core's way) but not the artifacts on disk."""
    from opsbook.runner import run_playbook

    token = "eyJhbGciOiJSUzI1NiJ9.opsbook-test-token"
    monkeypatch.setenv("K8S_AUTH_API_KEY", token)
    inventory = local_inventory(tmp_path)
    artifacts = tmp_path / "artifacts"
    result = run_playbook("env", env_playbook(tmp_path), [inventory], {}, artifacts_dir=artifacts)
    assert not result.failures, result.failures
    commands = list(artifacts.glob("*/command"))
    assert commands and json.loads(commands[0].read_text())["env"]["K8S_AUTH_API_KEY"] == "********"
    assert all(token not in p.read_text(errors="replace") for p in artifacts.rglob("*") if p.is_file())
