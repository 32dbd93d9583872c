"""opsbook.remote's pure parts: node specs, the ssh command line, error lines, what travels to the node."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsbook.remote import Node, node_env, node_error, stage_inventories
from opsbook.runner import Vault


@pytest.mark.parametrize("spec, expected", [
    ("ops@runner1", ("ops", "runner1", 22)),
    ("ops@runner1:2222", ("ops", "runner1", 2222)),
    ("opsbook-node@127.0.0.1:12222", ("opsbook-node", "127.0.0.1", 12222)),
])
def test_parse(spec, expected):
    node = Node.parse(spec)
    assert (node.user, node.host, node.port) == expected
    assert node.runner == "ansible-runner" and node.label == f"{expected[0]}@{expected[1]}:{expected[2]}"


@pytest.mark.parametrize("spec", ["runner1", "@runner1", "ops@", "ops@runner1:ssh", "ops@:22"])
def test_parse_refuses(spec):
    with pytest.raises(ValueError, match="expected USER@HOST\\[:PORT\\] or 'lab'"):
        Node.parse(spec)


def test_ssh_command_is_batch_strict_with_a_timeout():
    node = Node("ops", "runner1", 2222, Path("/k/id"), Path("/k/known_hosts"), "/opt/o/bin/ansible-runner")
    cmd = node.ssh_command(["/opt/o/bin/ansible-runner", "worker", "--private-data-dir=/tmp/x y"])
    assert cmd[:3] == ["ssh", "-p", "2222"]
    for option in ("BatchMode=yes", "StrictHostKeyChecking=yes", "ConnectTimeout=10", "IdentitiesOnly=yes",
                   "UserKnownHostsFile=/k/known_hosts"):
        assert option in cmd
    assert cmd[cmd.index("-i") + 1] == "/k/id"
    assert cmd[-3:] == ["ops@runner1", "--", "/opt/o/bin/ansible-runner worker '--private-data-dir=/tmp/x y'"]


NODE = Node("ops", "runner1", 2222, Path("/k/id"), None, "/opt/o/bin/ansible-runner")


@pytest.mark.parametrize("rc, stderr, expected", [
    (255, "ssh: connect to host runner1 port 2222: Connection refused\n",
     "node ops@runner1:2222 unreachable: ssh: connect to host runner1 port 2222: Connection refused"),
    (255, "ssh: Could not resolve hostname runner1: Name or service not known\n",
     "node ops@runner1:2222 unreachable: ssh: Could not resolve hostname runner1: Name or service not known"),
    (255, "ops@runner1: Permission denied (publickey).\n",
     "node ops@runner1:2222 refused the login (publickey): is the key /k/id in ops's authorized_keys?"),
    (255, "Host key verification failed.\n",
     "node ops@runner1:2222: host key not trusted (~/.ssh/known_hosts): Host key verification failed."),
    (127, "sh: 1: /opt/o/bin/ansible-runner: not found\n",
     "node ops@runner1:2222 has no ansible-runner at '/opt/o/bin/ansible-runner': install opsbook there "
     "(pip install opsbook) or pass --node-runner"),
    (126, "sh: 1: /opt/o/bin/ansible-runner: Permission denied\n",
     "node ops@runner1:2222: ops cannot run '/opt/o/bin/ansible-runner': sh: 1: /opt/o/bin/ansible-runner: "
     "Permission denied"),
    (1, "", "node ops@runner1:2222: exit 1"),
])
def test_node_error_is_one_line(rc, stderr, expected):
    assert str(node_error(NODE, rc, stderr)) == expected


def test_node_env_drops_the_controllers_identity_and_puts_the_nodes_ansible_first():
    env = node_env({"HOME": "/root", "USER": "root", "PATH": "/ctl/bin:/usr/bin", "SSH_AUTH_SOCK": "/s",
                    "OPSBOOK_LAB_DIR": "/var/tmp/lab", "ANSIBLE_NOCOLOR": "1"}, NODE)
    assert env == {"OPSBOOK_LAB_DIR": "/var/tmp/lab", "ANSIBLE_NOCOLOR": "1",
                   "PATH": "/opt/o/bin:/usr/local/bin:/usr/bin:/bin"}
    assert node_env({}, Node("ops", "h"))["PATH"] == "/usr/local/bin:/usr/bin:/bin"


def test_stage_inventories_copies_them_into_the_streamed_dir(tmp_path):
    lab = tmp_path / "lab"
    (lab / "group_vars").mkdir(parents=True)
    (lab / "hosts.yml").write_text("all: {}\n")
    (lab / "group_vars" / "all.yml").write_text("x: 1\n")
    single = tmp_path / "prod.ini"
    single.write_text("[web]\n")
    private = tmp_path / "private"
    private.mkdir()
    args = stage_inventories(private, [lab, single], "/tmp/w")
    assert args == ["-i", "/tmp/w/inventories/0-lab", "-i", "/tmp/w/inventories/1-prod.ini/prod.ini"]
    assert (private / "inventories/0-lab/group_vars/all.yml").read_text() == "x: 1\n"
    assert (private / "inventories/1-prod.ini/prod.ini").read_text() == "[web]\n"


def test_vault_files_travel_with_the_job(tmp_path):
    password_file = tmp_path / "vault.txt"
    password_file.write_text("s3cret\n")
    client = tmp_path / "client.sh"
    client.write_text("#!/bin/sh\necho s3cret\n")
    client.chmod(0o700)
    private = tmp_path / "private"
    private.mkdir()
    vault = Vault(password="typed", password_file=password_file, ids=(f"prod@{client}",))
    args = vault.cmdline(private, "/tmp/w")
    assert args == ["--vault-password-file", "/tmp/w/vault-pass", "--vault-password-file", "/tmp/w/vault/password-file",
                    "--vault-id", "prod@/tmp/w/vault/id-0"]
    assert (private / "vault-pass").read_text() == "typed\n"
    assert (private / "vault" / "id-0").stat().st_mode & 0o777 == 0o700  # a client script stays executable
    assert Vault(password_file=password_file).cmdline(tmp_path / "unused") == [
        "--vault-password-file", str(password_file)]  # a local run reads the files where they are


def test_resolve_node_usage_errors(tmp_path, monkeypatch):
    import click

    from opsbook.commands.run import resolve_node

    assert resolve_node(None, None, None, None) is None
    with pytest.raises(click.BadParameter, match="needs --node"):
        resolve_node(None, None, None, "/opt/o/bin/ansible-runner")
    with pytest.raises(click.BadParameter, match="expected USER@HOST"):
        resolve_node("runner1", None, None, None)
    monkeypatch.setenv("OPSBOOK_LAB_DIR", str(tmp_path))  # a lab that was never started
    with pytest.raises(click.BadParameter, match="no lab state at"):
        resolve_node("lab", None, None, None)
    (tmp_path / "lab.json").write_text('{"services": {}}')
    with pytest.raises(click.BadParameter, match="the lab has no execution node: `opsbook lab up --with ssh`"):
        resolve_node("lab", None, None, None)
    (tmp_path / "lab.json").write_text('{"services": {"ssh": {"user": "n", "host": "127.0.0.1", "port": 1, '
                                       '"key_file": "/k", "known_hosts": "/kh", "runner": "/r/ansible-runner"}}}')
    node = resolve_node("lab", None, None, "/other/ansible-runner")
    assert (node.label, str(node.key_file), node.runner) == ("n@127.0.0.1:1", "/k", "/other/ansible-runner")
