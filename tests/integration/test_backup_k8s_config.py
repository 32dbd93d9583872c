"""k8s_config_backup / k8s_config_restore against the lab's Kubernetes API (KWOK node).

Every test works in namespaces of its own (``bk8s-<random>``) and deletes them.
"""

from __future__ import annotations

import base64
import json
import uuid

import pytest

pytestmark = pytest.mark.lab

pytest.importorskip("kubernetes")
from kubernetes import client  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

from tests.helpers import poll, run_module  # noqa: E402

SECRET_VALUE = "s3gredo-" + uuid.uuid4().hex  # a Secret's value: must never appear in a file in clear
TOKEN_VALUE = "tok-" + uuid.uuid4().hex
VAULT_PASSWORD = "vault-" + uuid.uuid4().hex


def _core(k8s_lab):
    return client.CoreV1Api(k8s_lab["api_client"])


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def namespaces(k8s_lab):
    """Factory of fresh namespace names; every one of them is deleted afterwards."""
    core = _core(k8s_lab)
    made: list[str] = []

    def make(create: bool = True) -> str:
        name = f"bk8s-{uuid.uuid4().hex[:8]}"
        made.append(name)
        if create:
            core.create_namespace({"metadata": {"name": name}}, _request_timeout=10)
        return name

    yield make
    for name in made:
        try:
            core.delete_namespace(name, _request_timeout=10)
        except ApiException as exc:
            if exc.status != 404:
                raise


@pytest.fixture
def source(k8s_lab, namespaces):
    """A namespace with 2 ConfigMaps (one with binaryData and the last-applied annotation) and 2 Secrets."""
    core = _core(k8s_lab)
    ns = namespaces()
    meta = {"labels": {"app.kubernetes.io/name": "backend"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"kind":"ConfigMap"}',
                            "opsbook.test/owner": "backup"}}
    core.create_namespaced_config_map(ns, {"metadata": dict(meta, name="backend-config"),
                                           "data": {"SYNC_QUEUE": "sync_queue", "LOG_LEVEL": "info",
                                                    "SAUDACAO": "Olá, configuração ✓"}}, _request_timeout=10)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "worker-config", "labels": {"app.kubernetes.io/name": "worker"}},
                                           "data": {"CONCURRENCY": "4"}, "binaryData": {"logo.bin": _b64("\x00\x01binário")}},
                                      _request_timeout=10)
    core.create_namespaced_secret(ns, {"metadata": {"name": "backend-secrets", "labels": {"app.kubernetes.io/name": "backend"}},
                                       "type": "Opaque", "data": {"DB_PASSWORD": _b64(SECRET_VALUE)}}, _request_timeout=10)
    core.create_namespaced_secret(ns, {"metadata": {"name": "worker-token", "labels": {"app.kubernetes.io/name": "worker"}},
                                       "type": "Opaque", "stringData": {"TOKEN": TOKEN_VALUE}}, _request_timeout=10)
    poll(lambda: any(cm.metadata.name == "kube-root-ca.crt"
                     for cm in core.list_namespaced_config_map(ns, _request_timeout=5).items))
    return ns


def _conn(k8s_lab) -> dict:
    return {"kubeconfig": k8s_lab["kubeconfig"], "timeout": 60}


def _data(k8s_lab, ns: str) -> dict:
    """What the API holds: {(kind, name): (data, binaryData, labels)} of the restorable objects."""
    core = _core(k8s_lab)
    out = {}
    for cm in core.list_namespaced_config_map(ns, _request_timeout=5).items:
        if cm.metadata.name != "kube-root-ca.crt":
            out[("ConfigMap", cm.metadata.name)] = (cm.data, cm.binary_data, cm.metadata.labels)
    for sec in core.list_namespaced_secret(ns, _request_timeout=5).items:
        if sec.type != "kubernetes.io/service-account-token":
            out[("Secret", sec.metadata.name)] = (sec.data, sec.type, sec.metadata.labels)
    return out


def _grep(root, *needles: str) -> list[str]:
    hits = []
    for path in [p for p in root.rglob("*") if p.is_file()]:
        data = path.read_bytes()
        hits += [f"{n} in {path}" for n in needles if n.encode() in data]
    return hits


def _backup(k8s_lab, ns, location, **extra):
    result = run_module("k8s_config_backup", dict(_conn(k8s_lab), namespace=ns, location=str(location),
                                                 vault_password=VAULT_PASSWORD, **extra))
    assert result.get("failed") is not True, result
    return result


def test_round_trip_into_a_scratch_namespace_equals_the_source(k8s_lab, source, namespaces, tmp_path):
    location = tmp_path / "backups"
    result = _backup(k8s_lab, source, location)
    assert result["counts"] == {"configmaps": 2, "secrets": 2}
    assert [(o["kind"], o["name"]) for o in result["objects"]] == [
        ("ConfigMap", "backend-config"), ("ConfigMap", "worker-config"),
        ("Secret", "backend-secrets"), ("Secret", "worker-token")]
    backup = location / result["name"]
    assert sorted(p.name for p in backup.iterdir()) == ["configmaps.json", "manifest.json", "secrets.vault"]
    assert (backup / "secrets.vault").read_bytes().startswith(b"$ANSIBLE_VAULT;1.1;AES256\n")
    exported = json.loads((backup / "configmaps.json").read_text())
    meta = exported[0]["metadata"]
    assert meta == {"name": "backend-config", "labels": {"app.kubernetes.io/name": "backend"},
                    "annotations": {"opsbook.test/owner": "backup"}}  # no uid, resourceVersion, managedFields ...
    assert set(exported[0]) == {"apiVersion", "kind", "metadata", "data"}
    # no secret value in clear anywhere under the location (nor base64, nor the vault password)
    assert _grep(tmp_path, SECRET_VALUE, _b64(SECRET_VALUE), TOKEN_VALUE, _b64(TOKEN_VALUE), VAULT_PASSWORD) == []

    scratch = namespaces(create=False)
    args = dict(_conn(k8s_lab), location=str(location), label=source, namespace=scratch,
                vault_password=VAULT_PASSWORD)
    missing = run_module("k8s_config_restore", args)
    assert missing["failed"] is True
    assert missing["msg"] == f"namespace: {scratch} does not exist; set create_namespace to restore into a new namespace"
    dry = run_module("k8s_config_restore", dict(args, create_namespace=True), check_mode=True)
    assert dry.get("failed") is not True, dry
    assert dry["counts"] == {"create": 4, "replace": 0, "unchanged": 0}
    assert [a["action"] for a in dry["actions"]] == ["create_namespace", "create_configmap", "create_configmap",
                                                     "create_secret", "create_secret"]
    with pytest.raises(ApiException) as err:
        _core(k8s_lab).read_namespace(scratch, _request_timeout=5)
    assert err.value.status == 404  # check mode created nothing

    done = run_module("k8s_config_restore", dict(args, create_namespace=True))
    assert done.get("failed") is not True, done
    assert done["namespace_created"] is True and done["verified"] is True
    assert _data(k8s_lab, scratch) == _data(k8s_lab, source)
    assert len(_data(k8s_lab, scratch)) == 4
    restored = _core(k8s_lab).read_namespaced_config_map("backend-config", scratch, _request_timeout=5)
    assert "kubectl.kubernetes.io/last-applied-configuration" not in (restored.metadata.annotations or {})
    assert base64.b64decode(_core(k8s_lab).read_namespaced_secret(
        "backend-secrets", scratch, _request_timeout=5).data["DB_PASSWORD"]).decode() == SECRET_VALUE
    assert _grep(tmp_path, SECRET_VALUE, _b64(SECRET_VALUE), TOKEN_VALUE, _b64(TOKEN_VALUE), VAULT_PASSWORD) == []
    assert SECRET_VALUE not in json.dumps(done) and _b64(SECRET_VALUE) not in json.dumps(done)

    again = run_module("k8s_config_restore", args)
    assert again["changed"] is False and again["counts"] == {"create": 0, "replace": 0, "unchanged": 4}


def test_replace_needs_confirm_then_restarts_the_deployment(k8s_lab, source, tmp_path):
    core, apps = _core(k8s_lab), client.AppsV1Api(k8s_lab["api_client"])
    labels = {"app.kubernetes.io/name": "backend"}
    apps.create_namespaced_deployment(source, {
        "metadata": {"name": "backend"},
        "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "backend", "image": "lab.local/backend:1"}]}}}},
        _request_timeout=10)
    password_file = tmp_path / "vault-pass"
    password_file.write_text(VAULT_PASSWORD + "\n")
    location = tmp_path / "backups"
    _backup(k8s_lab, source, location, names=["backend-config", "backend-secrets"])
    # the configuration drifts: a key changed, a Secret deleted
    core.patch_namespaced_config_map("backend-config", source, {"data": {"LOG_LEVEL": "debug"}}, _request_timeout=10)
    core.delete_namespaced_secret("backend-secrets", source, _request_timeout=10)
    args = dict(_conn(k8s_lab), location=str(location), vault_password_file=str(password_file),
                restart_deployments=["backend"])
    dry = run_module("k8s_config_restore", dict(args, confirm=source), check_mode=True)
    assert dry.get("failed") is not True, dry
    changes = {(c["kind"], c["name"]): c for c in dry["changes"]}
    assert changes[("ConfigMap", "backend-config")]["operation"] == "replace"
    assert changes[("ConfigMap", "backend-config")]["changed"] == ["LOG_LEVEL"]
    assert changes[("Secret", "backend-secrets")]["operation"] == "create"
    assert [a["action"] for a in dry["actions"]][-1] == "restart"
    refused = run_module("k8s_config_restore", args)
    assert refused["failed"] is True
    assert refused["msg"] == (f"confirm: restoring would replace ConfigMap backend-config in namespace {source}; "
                              f"set confirm to '{source}' to proceed")
    assert core.read_namespaced_config_map("backend-config", source, _request_timeout=5).data["LOG_LEVEL"] == "debug"

    done = run_module("k8s_config_restore", dict(args, confirm=source))
    assert done.get("failed") is not True, done
    assert core.read_namespaced_config_map("backend-config", source, _request_timeout=5).data["LOG_LEVEL"] == "info"
    assert core.read_namespaced_secret("backend-secrets", source, _request_timeout=5).data == {"DB_PASSWORD": _b64(SECRET_VALUE)}
    dep = apps.read_namespaced_deployment("backend", source, _request_timeout=5)
    assert "kubectl.kubernetes.io/restartedAt" in dep.spec.template.metadata.annotations
    assert done["restarted"] == [{"name": "backend", "revision": 2, "ready_replicas": 2}]
    assert int(dep.metadata.annotations["deployment.kubernetes.io/revision"]) == 2
    assert dep.status.ready_replicas == 2


def test_wrong_password_and_corrupted_file_apply_nothing(k8s_lab, source, namespaces, tmp_path):
    location = tmp_path / "backups"
    result = _backup(k8s_lab, source, location)
    scratch = namespaces(create=False)
    args = dict(_conn(k8s_lab), backup=result["backup"], namespace=scratch, create_namespace=True)
    wrong = run_module("k8s_config_restore", dict(args, vault_password="not-the-password"))
    assert wrong["failed"] is True
    assert wrong["msg"] == (f"vault_password: cannot decrypt the Secrets of {result['backup']} "
                            "(wrong vault password?); nothing was applied")
    nopw = run_module("k8s_config_restore", args)
    assert nopw["failed"] is True and nopw["msg"].startswith("vault_password: the backup holds Secrets")
    with pytest.raises(ApiException) as err:
        _core(k8s_lab).read_namespace(scratch, _request_timeout=5)
    assert err.value.status == 404

    cm_file = location / result["name"] / "configmaps.json"
    data = bytearray(cm_file.read_bytes())
    data[data.index(b"info")] = ord("I")  # one byte
    cm_file.write_bytes(bytes(data))
    refused = run_module("k8s_config_restore", dict(args, vault_password=VAULT_PASSWORD))
    assert refused.get("failed") is not True, refused
    assert refused["restored"] is False
    assert refused["findings"][0]["check"] == "k8s_config_backup_integrity"
    assert refused["findings"][0]["status"] == "critical"
    assert "configmaps.json does not match its SHA-256" in refused["findings"][0]["message"]
    with pytest.raises(ApiException) as err:
        _core(k8s_lab).read_namespace(scratch, _request_timeout=5)
    assert err.value.status == 404
    # the newest verified backup skips the corrupted one
    catalog = run_module("backup_catalog", {"location": str(location)})
    assert [b["verified"] for b in catalog["backups"]] == [False]


def test_bad_input_is_one_clear_error(k8s_lab, source, tmp_path):
    base = dict(_conn(k8s_lab), location=str(tmp_path / "b"))
    nopw = run_module("k8s_config_backup", dict(base, namespace=source))
    assert nopw["failed"] is True and nopw["msg"].startswith("vault_password: Secrets are encrypted with ansible-vault")
    only_cm = run_module("k8s_config_backup", dict(base, namespace=source, kinds=["configmaps"],
                                                     label_selector="app.kubernetes.io/name=worker"))
    assert only_cm.get("failed") is not True, only_cm
    assert only_cm["counts"] == {"configmaps": 1, "secrets": 0}
    assert sorted(p.name for p in (tmp_path / "b" / only_cm["name"]).iterdir()) == ["configmaps.json", "manifest.json"]
    bad_kind = run_module("k8s_config_backup", dict(base, namespace=source, kinds=["pods"]))
    assert bad_kind["msg"] == "kinds: expected configmaps and/or secrets, got pods"
    bad_ns = run_module("k8s_config_backup", dict(base, namespace="Not_Valid", vault_password=VAULT_PASSWORD))
    assert bad_ns["msg"] == "namespace: 'Not_Valid' is not a valid Kubernetes namespace name"
    missing = run_module("k8s_config_backup", dict(base, namespace=source, names=["nope"], vault_password=VAULT_PASSWORD))
    assert missing["msg"] == f"names: nope not found in namespace {source} (among the selected kinds configmaps, secrets)"
    gone = run_module("k8s_config_backup", dict(base, namespace="bk8s-does-not-exist", vault_password=VAULT_PASSWORD))
    assert gone["failed"] is True and gone["msg"] == "namespace: bk8s-does-not-exist does not exist"


# --- the backup, restore and dr-rehearsal scenarios through the CLI on the ML Bling lab inventory --------
def _scenario(tmp_path, scenario, overlay_vars, *args):
    """`opsbook run SCENARIO -i inventories/mlbling-lab -i <overlay>`; the vault password comes from a file."""
    import yaml

    from tests.helpers import REPO, run_cli

    overlay = tmp_path / f"inventory-{uuid.uuid4().hex[:6]}"
    overlay.mkdir()
    (overlay / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"lab": {"hosts": {"mlbling-lab": None}}}}}))
    (overlay / "group_vars").mkdir()  # group_vars, to win over mlbling-lab's own group_vars/lab.yml
    (overlay / "group_vars" / "lab.yml").write_text(yaml.safe_dump(overlay_vars))
    password_file = tmp_path / "vault-pass"
    password_file.write_text(VAULT_PASSWORD + "\n")
    art = tmp_path / "artifacts"
    proc = run_cli("run", scenario, "-i", str(REPO / "inventories" / "mlbling-lab"), "-i", str(overlay), "--json",
                   "--artifacts-dir", str(art), *args, env={"ANSIBLE_VAULT_PASSWORD_FILE": str(password_file)},
                   timeout=300)
    try:
        return proc, json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(proc.stderr)


def _no_secret_anywhere(tmp_path):
    assert list(tmp_path.rglob("job_events/*.json")), "no ansible-runner events were kept"
    assert _grep(tmp_path, SECRET_VALUE, _b64(SECRET_VALUE), TOKEN_VALUE, _b64(TOKEN_VALUE)) == []
    # the password is in the password file only
    assert _grep(tmp_path, VAULT_PASSWORD) == [f"{VAULT_PASSWORD} in {tmp_path / 'vault-pass'}"]


def test_backup_and_restore_scenarios_round_trip(k8s_lab, source, namespaces, tmp_path):
    location = tmp_path / "backups"
    common = {"backup_location": str(location), "restore_location": str(location), "backup_redis": False,
              "backup_k8s_namespaces": [source], "restore_k8s_restart_deployments": []}
    proc, report = _scenario(tmp_path, "backup", common)
    assert proc.returncode == 0, (proc.stderr, report["findings"])
    backup = {f["check"]: f for f in report["findings"]}["k8s_config_backup"]
    assert backup["value"] == 4 and "2 ConfigMaps and 2 Secrets" in backup["message"]

    scratch = namespaces(create=False)
    restore_vars = dict(common, restore_k8s_label=source, restore_k8s_namespace=scratch, restore_k8s_create_namespace=True)
    proc, dry = _scenario(tmp_path, "restore", restore_vars)
    assert proc.returncode == 0, (proc.stderr, dry["findings"])
    assert "would restore 4 objects" in {f["check"]: f for f in dry["findings"]}["k8s_config_restore"]["message"]
    with pytest.raises(ApiException):
        _core(k8s_lab).read_namespace(scratch, _request_timeout=5)
    proc, done = _scenario(tmp_path, "restore", restore_vars, "--remediate")
    assert proc.returncode == 0, (proc.stderr, done["findings"])
    assert {f["check"]: f for f in done["findings"]}["k8s_config_restore_verified"]["status"] == "ok"
    assert _data(k8s_lab, scratch) == _data(k8s_lab, source)

    # a ConfigMap drifted: replacing it needs --confirm <namespace> (refused, listed in check mode, then done)
    name = next(n for kind, n in _data(k8s_lab, scratch) if kind == "ConfigMap")
    _core(k8s_lab).patch_namespaced_config_map(name, scratch, {"data": {"drift": "yes"}}, _request_timeout=5)

    def confirmation(report):
        return [(f["status"], f["state"], f["target"], f["message"]) for f in report["findings"]
                if f["check"] == "restore_confirmation"]

    allows = f"replace the ConfigMaps/Secrets that differ in namespace {scratch}"
    proc, refused = _scenario(tmp_path, "restore", restore_vars, "--remediate")
    assert refused["failures"] == [] and refused["outcome"] == "action_needed", (proc.stderr, refused["failures"])
    assert confirmation(refused) == [("warning", "not_confirmed", scratch, f"not confirmed, not run: {allows}; "
                                      f"pass --confirm {scratch} to allow it (or --yes for every target)")]
    assert _data(k8s_lab, scratch) != _data(k8s_lab, source)
    proc, plan = _scenario(tmp_path, "restore", restore_vars, "-C", "--remediate", "--confirm", scratch)
    assert confirmation(plan) == [("ok", "confirmed", scratch, f"check mode: confirmed (--confirm {scratch}): would {allows}")]
    proc, replaced = _scenario(tmp_path, "restore", restore_vars, "--remediate", "--confirm", scratch)
    assert replaced["failures"] == [] and confirmation(replaced) == [], (proc.stderr, replaced["findings"])
    assert _data(k8s_lab, scratch) == _data(k8s_lab, source)
    _no_secret_anywhere(tmp_path)


def test_dr_rehearsal_restores_into_a_scratch_namespace_and_deletes_it(k8s_lab, source, tmp_path):
    reports = tmp_path / "reports"
    proc, report = _scenario(tmp_path, "dr-rehearsal", {
        "dr_rehearsal_location": str(tmp_path / "backups"), "dr_rehearsal_report_dir": str(reports),
        "dr_rehearsal_redis": False, "dr_rehearsal_k8s_namespaces": [source],
        "dr_rehearsal_backup_interval_hours": 0.5})
    assert proc.returncode == 0, (proc.stderr, [f for f in report["findings"] if f["status"] != "ok"])
    verified = {f["check"]: f for f in report["findings"]}["k8s_config_restore_verified"]
    assert verified["status"] == "ok" and verified["message"].startswith("4 ConfigMaps and Secrets in namespace ")
    scratch = verified["target"]
    assert scratch.startswith(f"{source}-dr-")
    try:  # deleted (or being deleted: the namespace controller finalizes it)
        assert _core(k8s_lab).read_namespace(scratch, _request_timeout=5).status.phase == "Terminating"
    except ApiException as exc:
        assert exc.status == 404
    data = json.loads(next(reports.glob("dr-rehearsal-*.json")).read_text())
    assert [(s["phase"], s["name"], s["status"]) for s in data["steps"]] == [
        ("backup", "kubernetes config", "ok"), ("restore", "kubernetes config", "ok")]
    assert data["rto_seconds"] == pytest.approx(data["steps"][1]["duration"], abs=0.01)
    assert data["rpo_seconds"] == pytest.approx(data["steps"][1]["started"] - data["steps"][0]["started"], abs=0.01)
    _no_secret_anywhere(tmp_path)
