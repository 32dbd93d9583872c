# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup and restore of a namespace's ConfigMaps and Secrets (ML Bling config recovery).

A backup holds ``configmaps.json`` (clear text: ConfigMaps carry configuration, not
secrets) and ``secrets.vault``: the Secrets as JSON encrypted **in memory** with
ansible-vault (AES256) before anything is written, so a Secret's value never reaches
a file in clear, not even a temporary one.  Objects are stored without cluster
metadata (uid, resourceVersion, creationTimestamp, managedFields, ownerReferences,
status, the ``kubectl.kubernetes.io/last-applied-configuration`` annotation), so they
can be applied to the same or another namespace.

The manifest names every object with its keys (never values); ConfigMaps also carry
a SHA-256 of their data.  A restore verifies the files' SHA-256 first, decrypts the
Secrets (a wrong password stops it before anything is applied), then creates missing
objects and replaces differing ones (replacing needs ``confirm`` = the namespace), reads
them back and compares, and restarts the named Deployments through the workload
module's Kubernetes backend.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os

from ansible_collections.opsbook.runbooks.plugins.module_utils.backup import common as backup_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.kubernetes import common as k8s_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.common import vault_text
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import (
    InvalidInput,
    OpsbookError,
    ServiceError,
)
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    CRITICAL,
    OK,
    make_action,
    make_finding,
)
from ansible_collections.opsbook.runbooks.plugins.module_utils.workload import kubernetes_backend

KIND = "k8s_config"
CONFIGMAPS_FILE = "configmaps.json"
SECRETS_FILE = "secrets.vault"
KINDS = ("configmaps", "secrets")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# Created by Kubernetes in every namespace: never exported (they belong to the cluster).
SKIPPED_CONFIGMAPS = ("kube-root-ca.crt",)
SKIPPED_SECRET_TYPES = ("kubernetes.io/service-account-token",)
_DATA_FIELDS = {"ConfigMap": ("data", "binaryData"), "Secret": ("data",)}


def connection_argument_spec():
    """k8s_common's connection options plus the operation timeout."""
    spec = k8s_common.kubernetes_common_argument_spec()
    spec["timeout"] = dict(type="float", default=120)
    return spec


def _vault_spec():
    return dict(
        vault_password=dict(type="str", no_log=True),
        vault_password_file=dict(type="path"),
    )


def backup_argument_spec():
    spec = backup_common.retention_argument_spec()
    spec.update(connection_argument_spec())
    spec.update(_vault_spec())
    spec.update(
        kinds=dict(type="list", elements="str", default=list(KINDS)),
        label_selector=dict(type="str"),
        names=dict(type="list", elements="str", default=[]),
    )
    return spec


def restore_argument_spec():
    spec = connection_argument_spec()
    spec.update(_vault_spec())
    spec.update(
        backup=dict(type="path"),
        location=dict(type="path"),
        label=dict(type="str"),
        namespace=dict(type="str"),  # default: the namespace the backup came from
        create_namespace=dict(type="bool", default=False),
        confirm=dict(type="str"),
        restart_deployments=dict(type="list", elements="str", default=[]),
        delete_after_verify=dict(type="bool", default=False),
    )
    return spec


# --- Kubernetes access (k8s_common) ------------------------------------------------------------
def _kube(params):
    timeout = params.get("timeout") or 120
    if timeout <= 0:
        raise InvalidInput("timeout: must be positive, got %s" % timeout)
    return k8s_common.Kube(params, timeout)


def _namespace_exists(kube, namespace):
    found = kube.call(kube.core.list_namespace, field_selector="metadata.name=%s" % namespace).items
    return bool(found)


def _listers(kube):
    return {"ConfigMap": kube.core.list_namespaced_config_map, "Secret": kube.core.list_namespaced_secret}


def _live_objects(kube, namespace):
    """{(kind, name): API dict} of every ConfigMap and Secret in ``namespace``."""
    live = {}
    for kind, lister in _listers(kube).items():
        for item in kube.call(lister, namespace).items:
            live[(kind, item.metadata.name)] = kube.to_dict(item)
    return live


# --- pure helpers ----------------------------------------------------------------------------
def clean_object(kind, obj):
    """A ConfigMap/Secret dict without cluster metadata, ready to apply to any namespace."""
    meta = obj.get("metadata") or {}
    annotations = dict(meta.get("annotations") or {})
    annotations.pop(LAST_APPLIED, None)
    clean_meta = {"name": meta["name"]}
    if meta.get("labels"):
        clean_meta["labels"] = dict(meta["labels"])
    if annotations:
        clean_meta["annotations"] = annotations
    out = {"apiVersion": "v1", "kind": kind, "metadata": clean_meta}
    for field in _DATA_FIELDS[kind]:
        if obj.get(field):
            out[field] = dict(obj[field])
    if kind == "Secret":
        out["type"] = obj.get("type") or "Opaque"
    if obj.get("immutable"):
        out["immutable"] = True
    return out


def data_digest(obj):
    """SHA-256 of an object's data fields (canonical JSON)."""
    payload = {field: obj.get(field) or {} for field in _DATA_FIELDS[obj["kind"]]}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def object_keys(obj):
    return sorted(k for field in _DATA_FIELDS[obj["kind"]] for k in (obj.get(field) or {}))


def compare(desired, live):
    """``create``, ``unchanged`` or ``replace`` with the names of keys added/removed/changed (no values)."""
    if live is None:
        return {"operation": "create", "added": object_keys(desired), "removed": [], "changed": []}
    added, removed, changed = [], [], []
    for field in _DATA_FIELDS[desired["kind"]]:
        want, have = desired.get(field) or {}, live.get(field) or {}
        added += [k for k in want if k not in have]
        removed += [k for k in have if k not in want]
        changed += [k for k in want if k in have and want[k] != have[k]]
    meta_differs = any((desired["metadata"].get(key) or {}) != (live.get("metadata", {}).get(key) or {})
                       for key in ("labels", "annotations")) or \
        (desired["kind"] == "Secret" and desired.get("type") != (live.get("type") or "Opaque"))
    same = not (added or removed or changed or meta_differs)
    return {"operation": "unchanged" if same else "replace", "added": sorted(added), "removed": sorted(removed),
            "changed": sorted(changed)}


def _read_password(params):
    if params.get("vault_password") and params.get("vault_password_file"):
        raise InvalidInput("vault_password: give vault_password or vault_password_file, not both")
    if params.get("vault_password"):
        return params["vault_password"].encode("utf-8")
    path = params.get("vault_password_file")
    if path:
        try:
            with open(os.path.expanduser(path), "rb") as handle:
                password = handle.read().strip()
        except (IOError, OSError) as exc:
            raise InvalidInput("vault_password_file: cannot read %s: %s" % (path, exc.strerror))
        if not password:
            raise InvalidInput("vault_password_file: %s is empty" % path)
        return password
    return None


def encrypt(objects, password):
    return vault_text.encrypt(json.dumps(objects, sort_keys=True).encode("utf-8"), password)


def decrypt(vaulttext, password, backup_dir):
    try:
        plain = vault_text.decrypt(vaulttext, password)
    except vault_text.VaultDecryptError:
        raise InvalidInput("vault_password: cannot decrypt the Secrets of %s (wrong vault password?); nothing was applied"
                           % backup_dir)
    return json.loads(plain.decode("utf-8"))


def _validate_name(option, value):
    if not value or len(value) > 63 or not all(c.isalnum() or c == "-" for c in value) or \
            value != value.lower() or value[0] == "-" or value[-1] == "-":
        raise InvalidInput("%s: %r is not a valid Kubernetes namespace name" % (option, value))


# --- backup ----------------------------------------------------------------------------------
def _export(kube, namespace, kinds, label_selector, names):
    """Cleaned ConfigMaps and Secrets of ``namespace`` (lists sorted by name)."""
    if not _namespace_exists(kube, namespace):
        raise InvalidInput("namespace: %s does not exist" % namespace)
    exported = {"configmaps": [], "secrets": []}
    kinds_of = {"configmaps": "ConfigMap", "secrets": "Secret"}
    for key in kinds:
        kind = kinds_of[key]
        kwargs = {"label_selector": label_selector} if label_selector else {}
        for item in kube.call(_listers(kube)[kind], namespace, **kwargs).items:
            raw = kube.to_dict(item)
            name = raw["metadata"]["name"]
            if names and name not in names:
                continue
            if kind == "ConfigMap" and name in SKIPPED_CONFIGMAPS and name not in names:
                continue
            if kind == "Secret" and raw.get("type") in SKIPPED_SECRET_TYPES:
                continue
            exported[key].append(clean_object(kind, raw))
    for key in exported:
        exported[key].sort(key=lambda o: o["metadata"]["name"])
    found = set(o["metadata"]["name"] for key in exported for o in exported[key])
    missing = [n for n in names if n not in found]
    if missing:
        raise InvalidInput("names: %s not found in namespace %s (among the selected kinds %s)" % (
            ", ".join(missing), namespace, ", ".join(kinds)))
    return exported


def backup(params, check_mode=False):
    namespace = params["namespace"]
    _validate_name("namespace", namespace)
    kinds = params.get("kinds") or list(KINDS)
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise InvalidInput("kinds: expected %s, got %s" % (" and/or ".join(KINDS), ", ".join(bad)))
    password = _read_password(params)
    if "secrets" in kinds and password is None:
        raise InvalidInput("vault_password: Secrets are encrypted with ansible-vault; give vault_password or "
                           "vault_password_file (or kinds: [configmaps])")
    names = params.get("names") or []
    kube = _kube(params)
    exported = _export(kube, namespace, kinds, params.get("label_selector"), names)
    objects = [{"kind": o["kind"], "name": o["metadata"]["name"], "keys": object_keys(o),
                "sha256": data_digest(o) if o["kind"] == "ConfigMap" else None}
               for key in KINDS for o in exported[key]]
    counts = {key: len(exported[key]) for key in KINDS}
    label = params.get("label") or namespace
    summary = "%d ConfigMaps and %d Secrets of namespace %s" % (counts["configmaps"], counts["secrets"], namespace)
    if check_mode:
        result = backup_common.run_backup(params, KIND, label, True, None)
        result.update(objects=objects, counts=counts, namespace=namespace)
        result["findings"] = [make_finding("k8s_config_backup", OK, "would back up %s into %s" % (
            summary, result["location"]), value=len(objects), target=namespace)]
        return result
    # Encrypt before the staging directory exists: the clear Secrets live only in this process.
    vaulttext = encrypt(exported["secrets"], password) if "secrets" in kinds else None

    def write(staging):
        if "configmaps" in kinds:
            backup_common.write_atomic(staging.file(CONFIGMAPS_FILE),
                                       json.dumps(exported["configmaps"], indent=2, sort_keys=True) + "\n")
        if vaulttext is not None:
            backup_common.write_atomic(staging.file(SECRETS_FILE), vaulttext)
        return {"namespace": namespace, "kinds": kinds, "label_selector": params.get("label_selector"),
                "names": names, "objects": objects, "counts": counts,
                "files": {"configmaps": CONFIGMAPS_FILE if "configmaps" in kinds else None,
                          "secrets": SECRETS_FILE if vaulttext is not None else None},
                "encryption": {"secrets": "ansible-vault 1.1 AES256"}}

    result = backup_common.run_backup(params, KIND, label, False, write, tools={"kubernetes": _client_version()})
    result.update(objects=objects, counts=counts, namespace=namespace)
    result["findings"] = [make_finding("k8s_config_backup", OK, "backed up %s (Secrets vault-encrypted) in %.1fs to %s" % (
        summary, result["duration"], result["backup"]), value=len(objects), target=namespace)]
    return result


def _client_version():
    try:
        from kubernetes import __version__ as version
    except ImportError:  # pragma: no cover
        return None
    return "kubernetes-python %s" % version


# --- restore ---------------------------------------------------------------------------------
def _load(result, manifest, password):
    details = manifest["details"]
    files = details.get("files") or {}
    objects = []
    if files.get("configmaps"):
        with open(os.path.join(result["backup"], files["configmaps"])) as handle:
            objects += json.load(handle)
    if files.get("secrets"):
        if password is None:
            raise InvalidInput("vault_password: the backup holds Secrets encrypted with ansible-vault; give "
                               "vault_password or vault_password_file")
        with open(os.path.join(result["backup"], files["secrets"]), "rb") as handle:
            objects += decrypt(handle.read(), password, result["backup"])
    listed = sorted((o["kind"], o["name"]) for o in details.get("objects") or [])
    loaded = sorted((o["kind"], o["metadata"]["name"]) for o in objects)
    if listed != loaded:
        raise ServiceError("backup %s: its files hold %s but the manifest lists %s" % (result["backup"], loaded, listed))
    digests = dict(((o["kind"], o["name"]), o.get("sha256")) for o in details["objects"])
    for obj in objects:
        expected = digests[(obj["kind"], obj["metadata"]["name"])]
        if expected and data_digest(obj) != expected:
            raise ServiceError("backup %s: %s %s does not match its checksum in the manifest" % (
                result["backup"], obj["kind"], obj["metadata"]["name"]))
    return objects


def _apply(kube, obj, namespace, operation):
    body = dict(obj, metadata=dict(obj["metadata"], namespace=namespace))
    name = obj["metadata"]["name"]
    if obj["kind"] == "ConfigMap":
        create, replace = kube.core.create_namespaced_config_map, kube.core.replace_namespaced_config_map
    else:
        create, replace = kube.core.create_namespaced_secret, kube.core.replace_namespaced_secret
    if operation == "create":
        kube.call(create, namespace, body)
    else:
        kube.call(replace, name, namespace, body)


def _describe(change):
    parts = []
    for key in ("added", "removed", "changed"):
        if change[key]:
            parts.append("%s %s" % (key, ", ".join(change[key])))
    return "; ".join(parts)


def restore(params, check_mode=False):
    password = _read_password(params)
    restarts = params.get("restart_deployments") or []
    manifest, result, findings = backup_common.open_for_restore(params, KIND, "k8s_config_backup_integrity", None,
                                                                what="ConfigMaps and Secrets")
    source_ns = manifest["details"]["namespace"]
    namespace = params.get("namespace") or source_ns
    _validate_name("namespace", namespace)
    result.update(target=namespace, source_namespace=source_ns, changes=[], restarted=[], namespace_created=False,
                  namespace_deleted=False)
    if findings is None:
        return result
    objects = _load(result, manifest, password)  # wrong password / tampered content: stop before applying
    kube = _kube(params)
    exists = _namespace_exists(kube, namespace)
    if not exists and not params["create_namespace"]:
        raise InvalidInput("namespace: %s does not exist; set create_namespace to restore into a new namespace" % namespace)
    if params["delete_after_verify"] and exists:
        raise InvalidInput("delete_after_verify: %s already exists; only a namespace this restore creates is deleted "
                           "(use a new scratch namespace with create_namespace)" % namespace)
    live_objects = _live_objects(kube, namespace) if exists else {}
    changes = []
    for obj in objects:
        change = compare(obj, live_objects.get((obj["kind"], obj["metadata"]["name"])))
        change.update(kind=obj["kind"], name=obj["metadata"]["name"])
        changes.append(change)
    replacing = [c for c in changes if c["operation"] == "replace"]
    if replacing and params.get("confirm") != namespace:
        raise InvalidInput("confirm: restoring would replace %s in namespace %s; set confirm to %r to proceed" % (
            ", ".join("%s %s" % (c["kind"], c["name"]) for c in replacing), namespace, namespace))
    pending = [c for c in changes if c["operation"] != "unchanged"]
    result["changes"] = changes
    counts = dict((op, len([c for c in changes if c["operation"] == op])) for op in ("create", "replace", "unchanged"))
    result["counts"] = counts
    summary = "%d to create, %d to replace, %d unchanged" % (counts["create"], counts["replace"], counts["unchanged"])
    actions = []
    if not exists:
        actions.append(make_action("create_namespace", namespace, True, check_mode, "create namespace %s" % namespace))
    for change in pending:
        actions.append(make_action("%s_%s" % (change["operation"], change["kind"].lower()),
                                   "%s/%s" % (namespace, change["name"]), True, check_mode,
                                   _describe(change) or change["operation"]))
    if check_mode:
        for name in restarts if pending else []:
            actions.append(make_action("restart", "%s/%s" % (namespace, name), True, True,
                                       "would restart after the configuration change"))
        result.update(changed=bool(pending) or not exists, actions=actions)
        findings.append(make_finding("k8s_config_restore", OK, "would restore %d objects of %s into namespace %s: %s" % (
            len(objects), manifest["name"], namespace, summary), value=len(pending), target=namespace))
        result["findings"] = findings
        return backup_common.finish_timing(result)

    if not exists:
        kube.call(kube.core.create_namespace, {"metadata": {"name": namespace}})
        result["namespace_created"] = True
    for change, obj in zip(changes, objects):
        if change["operation"] != "unchanged":
            _apply(kube, obj, namespace, change["operation"])
    result.update(changed=bool(pending) or not exists, restored=True, actions=actions)
    findings.append(make_finding("k8s_config_restore", OK, "restored %d objects of %s into namespace %s: %s" % (
        len(objects), manifest["name"], namespace, summary), value=len(pending), target=namespace))

    mismatches = []
    live_objects = _live_objects(kube, namespace)
    for obj in objects:
        live = live_objects.get((obj["kind"], obj["metadata"]["name"]))
        if live is None or compare(obj, live)["operation"] != "unchanged":
            mismatches.append("%s %s" % (obj["kind"], obj["metadata"]["name"]))
    result.update(verified=not mismatches, problems=mismatches)
    findings.append(make_finding(
        "k8s_config_restore_verified", CRITICAL if mismatches else OK,
        ("namespace %s differs from backup %s: %s" % (namespace, manifest["name"], ", ".join(mismatches))) if mismatches
        else "%d ConfigMaps and Secrets in namespace %s equal backup %s" % (len(objects), namespace, manifest["name"]),
        value=len(mismatches), target=namespace, phase="verify"))

    if restarts and pending and not mismatches:
        findings.extend(_restart(params, namespace, restarts, result, actions))
    if params["delete_after_verify"]:
        kube.call(kube.core.delete_namespace, namespace)
        result["namespace_deleted"] = True
        actions.append(make_action("delete_namespace", namespace, True, False, "scratch namespace deleted after verification"))
    result["findings"] = findings
    return backup_common.finish_timing(result)


def _restart(params, namespace, names, result, actions):
    """Rollout-restart each Deployment (workload backend) and wait; one finding per Deployment."""
    findings = []
    for name in names:
        wl = {"name": name, "namespace": namespace, "kubeconfig": params.get("kubeconfig"),
              "context": params.get("context"), "timeout": params.get("timeout") or 120}
        target = "%s/%s" % (namespace, name)
        try:
            done = kubernetes_backend.restart(wl, False)
        except OpsbookError as exc:
            findings.append(make_finding("k8s_config_restart", CRITICAL, "restart of %s failed: %s" % (target, exc),
                                         target=target))
            continue
        actions.extend(done.get("actions") or [])
        result["restarted"].append({"name": name, "revision": done["revision"], "ready_replicas": done["ready_replicas"]})
        findings.append(make_finding("k8s_config_restart", OK, "%s restarted (revision %s -> %s), %d replicas ready" % (
            target, done["previous_revision"], done["revision"], done["ready_replicas"]),
            value=done["ready_replicas"], target=target))
    return findings
