# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that let roles name workloads in inventory and act on them with the workload module.

A *workload reference* is what an inventory writes for a role variable such as
``queue_backlog_workers``: a string (``worker``, ``deployment/worker``, ``statefulset/kafka``,
``systemd/etl-service``, ``compose/backend``) or a dict with the workload module's options
(``{kind, name, namespace, resource, project, docker_host, replicas}``).  ``workload_refs``
turns one reference or a list of them into dicts ready for the module, filling ``kind`` and
``namespace`` from the role's defaults; ``workload_skipped`` is the finding a role reports
when a remediation step has no workload configured.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.six import string_types

from ansible_collections.opsbook.runbooks.plugins.module_utils.findings import WARNING, make_finding

KINDS = ("kubernetes", "compose", "systemd")
# Kubernetes resource prefixes accepted in the string form (kubectl's own spelling).
RESOURCES = {"deployment": "deployment", "deploy": "deployment", "statefulset": "statefulset", "sts": "statefulset"}
KEYS = ("kind", "name", "namespace", "resource", "project", "docker_host", "replicas")


def _from_string(text, kind):
    prefix, sep, name = text.partition("/")
    if not sep:
        return {"kind": kind, "name": text}
    prefix = prefix.lower()
    if prefix in RESOURCES:
        return {"kind": "kubernetes", "resource": RESOURCES[prefix], "name": name}
    if prefix in KINDS:
        return {"kind": prefix, "name": name}
    raise ValueError("unknown prefix %r in %r (use one of %s, or a dict)" % (
        prefix, text, ", ".join(sorted(set(RESOURCES) | set(KINDS)))))


def _connection_defaults(defaults, namespace):
    """What the connection dictionaries (opsbook_kubernetes, opsbook_docker) say, per kind."""
    defaults = defaults or {}
    return {
        "kubernetes": {"namespace": namespace or defaults.get("namespace")},
        "compose": {"project": defaults.get("project") or defaults.get("compose_project"),
                    "docker_host": defaults.get("docker_host")},
        "systemd": {},
    }


def workload_ref(value, kind="kubernetes", namespace="", option="workload", defaults=None):
    """One reference as module options: ``kind``, ``name`` and only the other keys that are set.

    ``namespace`` (the role's) or else ``defaults["namespace"]`` fills a Kubernetes reference's namespace;
    ``defaults["project"]`` (or ``compose_project``) and ``defaults["docker_host"]`` fill a compose one's.
    """
    try:
        if isinstance(value, string_types):
            ref = _from_string(value.strip(), kind)
        elif isinstance(value, dict):
            unknown = sorted(set(value) - set(KEYS))
            if unknown:
                raise ValueError("unknown key(s) %s (known: %s)" % (", ".join(unknown), ", ".join(KEYS)))
            ref = dict((k, v) for k, v in value.items() if v not in (None, ""))
            ref.setdefault("kind", kind)
        else:
            raise ValueError("expected a string or a dict, got %r" % (value,))
        if not ref.get("name"):
            raise ValueError("a workload needs a name, got %r" % (value,))
        if ref["kind"] not in KINDS:
            raise ValueError("kind must be one of %s, got %r" % (", ".join(KINDS), ref["kind"]))
        if ref.get("resource") is not None:
            resource = RESOURCES.get(str(ref["resource"]).lower())
            if resource is None or ref["kind"] != "kubernetes":
                raise ValueError("resource %r: only deployment or statefulset, with kind kubernetes" % ref["resource"])
            ref["resource"] = resource
        if ref.get("resource") == "deployment":
            del ref["resource"]  # the module's default: keeps references working with every version of it
        for key, default in _connection_defaults(defaults, namespace)[ref["kind"]].items():
            if default and not ref.get(key):
                ref[key] = default
        if ref["kind"] != "kubernetes":
            ref.pop("namespace", None)
        if "replicas" in ref:
            ref["replicas"] = int(ref["replicas"])
    except (ValueError, TypeError) as exc:
        raise AnsibleFilterError("%s: %s" % (option, exc))
    ref["label"] = "/".join(str(part) for part in (ref["kind"], ref.get("namespace"), ref.get("resource"), ref["name"]) if part)
    return ref


def workload_refs(value, kind="kubernetes", namespace="", option="workload", defaults=None):
    """A reference, a list of them, or nothing (``""``, ``{}``, ``[]``, null) as a list of module options."""
    if value in (None, "", {}, []):
        return []
    items = value if isinstance(value, list) else [value]
    return [workload_ref(item, kind, namespace, option, defaults) for item in items if item not in (None, "", {})]


def workload_skipped(step, check, variable, target=None):
    """``[finding]``: ``step`` was skipped because no workload is configured in ``variable``."""
    return [make_finding(check, WARNING, "skipped: %s - no workload configured (set %s in the inventory)" % (step, variable),
                         target=target)]


class FilterModule(object):
    def filters(self):
        return {"workload_refs": workload_refs, "workload_skipped": workload_skipped}
