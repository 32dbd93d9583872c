"""Pure functions of backup_k8s: metadata cleaning, comparison, vault round trip, password input."""

from __future__ import annotations

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.backup import k8s as backup_k8s
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput

LIVE_CM = {
    "apiVersion": "v1", "kind": "ConfigMap",
    "metadata": {"name": "app", "namespace": "production", "uid": "0f1e", "resourceVersion": "812",
                 "creationTimestamp": "2026-11-23T08:00:00Z", "managedFields": [{"manager": "kubectl"}],
                 "ownerReferences": [{"kind": "Deployment", "name": "app"}], "labels": {"tier": "api"},
                 "annotations": {backup_k8s.LAST_APPLIED: "{}", "team": "sre"}},
    "data": {"A": "1"}, "binaryData": {"b": "AAE="},
}


def test_clean_object_drops_cluster_metadata_and_last_applied():
    assert backup_k8s.clean_object("ConfigMap", LIVE_CM) == {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "app", "labels": {"tier": "api"}, "annotations": {"team": "sre"}},
        "data": {"A": "1"}, "binaryData": {"b": "AAE="}}


def test_clean_secret_keeps_type_and_drops_status():
    live = {"kind": "Secret", "metadata": {"name": "s", "uid": "x"}, "data": {"K": "dg=="}, "status": {}, "immutable": True}
    assert backup_k8s.clean_object("Secret", live) == {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"K": "dg=="}, "type": "Opaque",
        "immutable": True}


@pytest.mark.parametrize("live, expected", [
    (None, ("create", ["A", "b"], [], [])),
    (dict(LIVE_CM), ("replace", [], [], [])),  # annotations differ (last-applied is on the live object)
    ({"metadata": {"labels": {"tier": "api"}, "annotations": {"team": "sre"}}, "data": {"A": "1"},
      "binaryData": {"b": "AAE="}}, ("unchanged", [], [], [])),
    ({"metadata": {"labels": {"tier": "api"}, "annotations": {"team": "sre"}}, "data": {"A": "2", "Z": "0"}},
     ("replace", ["b"], ["Z"], ["A"])),
])
def test_compare(live, expected):
    desired = backup_k8s.clean_object("ConfigMap", LIVE_CM)
    change = backup_k8s.compare(desired, live)
    assert (change["operation"], change["added"], change["removed"], change["changed"]) == expected


def test_vault_round_trip_and_wrong_password():
    objects = [{"kind": "Secret", "metadata": {"name": "s"}, "data": {"K": "c2VncmVkbw=="}}]
    vaulttext = backup_k8s.encrypt(objects, b"right")
    assert vaulttext.startswith(b"$ANSIBLE_VAULT;1.1;AES256\n") and b"c2VncmVkbw" not in vaulttext
    assert backup_k8s.decrypt(vaulttext, b"right", "/b") == objects
    with pytest.raises(InvalidInput, match=r"^vault_password: cannot decrypt the Secrets of /b \(wrong vault password\?\)"):
        backup_k8s.decrypt(vaulttext, b"wrong", "/b")


def test_password_options(tmp_path):
    assert backup_k8s._read_password({}) is None
    assert backup_k8s._read_password({"vault_password": "pw"}) == b"pw"
    (tmp_path / "f").write_text("from-file\n")
    assert backup_k8s._read_password({"vault_password_file": str(tmp_path / "f")}) == b"from-file"
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(InvalidInput, match="^vault_password_file: .* is empty$"):
        backup_k8s._read_password({"vault_password_file": str(tmp_path / "empty")})
    with pytest.raises(InvalidInput, match="^vault_password: give vault_password or vault_password_file, not both$"):
        backup_k8s._read_password({"vault_password": "a", "vault_password_file": str(tmp_path / "f")})
    with pytest.raises(InvalidInput, match="^vault_password_file: cannot read"):
        backup_k8s._read_password({"vault_password_file": str(tmp_path / "missing")})


@pytest.mark.parametrize("name", ["Prod", "-a", "a-", "a_b", "", "x" * 64])
def test_invalid_namespace_names(name):
    with pytest.raises(InvalidInput, match="^namespace: "):
        backup_k8s._validate_name("namespace", name)


def test_vault_text_interoperates_with_ansible_vault_both_ways():
    from ansible.parsing.vault import VaultLib, VaultSecret

    from ansible_collections.opsbook.runbooks.plugins.module_utils.common import vault_text

    ansible = VaultLib([("default", VaultSecret(b"pw"))])
    plain = "segredo ✓ ".encode() * 7  # not a multiple of the block size
    ours = vault_text.encrypt(plain, b"pw")
    assert ours.split(b"\n")[0] == b"$ANSIBLE_VAULT;1.1;AES256"
    assert max(len(line) for line in ours.split(b"\n")) == 80
    assert ansible.decrypt(ours) == plain
    assert vault_text.decrypt(ansible.encrypt(plain), b"pw") == plain
    with pytest.raises(vault_text.VaultDecryptError, match="HMAC verification failed"):
        vault_text.decrypt(ours, b"other")
    with pytest.raises(vault_text.VaultDecryptError, match="not an ansible-vault AES256 text"):
        vault_text.decrypt(b"plain text", b"pw")
