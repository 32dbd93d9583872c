# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one form of a workload reference, shared by the workload and log_scan modules and the workload_refs filter.

A reference is what an inventory writes for a workload:

- a string: ``order-service`` (a Kubernetes Deployment), ``deployment/worker``, ``statefulset/kafka``
  (also ``deploy/``, ``sts/``, ``kubernetes/``), ``compose/backend`` (a service of a compose project),
  ``systemd/etl-service`` (a unit);
- a dict: ``{kind, name, resource, namespace, project, docker_host, replicas}`` (``label``, as the
  workload_refs filter adds it, is ignored).

:func:`parse_ref` returns only what the reference says (``kind`` and ``name`` always; ``resource``,
``namespace``, ``project``, ``docker_host``, ``replicas`` when given).  Everything else comes from the
module's own options, which the playbooks feed from the inventory's connection dictionaries
(``opsbook_kubernetes``: kubeconfig, context, namespace; ``opsbook_docker``: docker_host, project;
``opsbook_systemd``: systemd_scope, systemd_sudo, systemd_unit_suffix): :func:`apply_ref` merges the two,
the reference winning.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.six import string_types

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput

KINDS = ("kubernetes", "compose", "systemd")
# Kubernetes resource prefixes of the string form (kubectl's own spelling).
RESOURCES = {"deployment": "deployment", "deploy": "deployment", "statefulset": "statefulset", "sts": "statefulset"}
PREFIXES = tuple(sorted(set(RESOURCES) | set(KINDS)))
KEYS = ("kind", "name", "resource", "namespace", "project", "docker_host", "replicas")
IGNORED = ("label",)
# Keys that only mean something for one kind.
KIND_KEYS = {"kubernetes": ("resource", "namespace"), "compose": ("project", "docker_host"), "systemd": ()}


def _from_string(text):
    prefix, sep, name = text.partition("/")
    if not sep:
        return {"kind": "kubernetes", "name": text}
    lowered = prefix.lower()
    if lowered in RESOURCES:
        return {"kind": "kubernetes", "resource": RESOURCES[lowered], "name": name}
    if lowered in KINDS:
        return {"kind": lowered, "name": name}
    raise InvalidInput("unknown prefix %r in %r (use one of %s, or a dict)" % (prefix, text, ", ".join(PREFIXES)))


def _parse(value):
    if isinstance(value, string_types):
        ref = _from_string(value.strip())
    elif isinstance(value, dict):
        unknown = sorted(set(value) - set(KEYS) - set(IGNORED))
        if unknown:
            raise InvalidInput("unknown key(s) %s (known: %s)" % (", ".join(unknown), ", ".join(KEYS)))
        ref = dict((k, v) for k, v in value.items() if k in KEYS and v not in (None, ""))
        ref.setdefault("kind", "kubernetes")
    else:
        raise InvalidInput("expected a string such as deployment/api, compose/backend or systemd/etl, or a dict, got %r" % (value,))
    if not isinstance(ref.get("name"), string_types) or not ref["name"].strip() or "/" in ref["name"]:
        raise InvalidInput("a workload needs a name (without /), got %r" % (value,))
    ref["name"] = ref["name"].strip()
    if ref["kind"] not in KINDS:
        raise InvalidInput("kind must be one of %s, got %r" % (", ".join(KINDS), ref["kind"]))
    for key in ("resource", "namespace", "project", "docker_host"):
        if key in ref and key not in KIND_KEYS[ref["kind"]]:
            raise InvalidInput("%s is for kind %s, not %s (in %r)" % (
                key, "kubernetes" if key in KIND_KEYS["kubernetes"] else "compose", ref["kind"], value))
    if "resource" in ref:
        resource = RESOURCES.get(str(ref["resource"]).lower())
        if resource is None:
            raise InvalidInput("resource must be deployment or statefulset, got %r" % (ref["resource"],))
        ref["resource"] = resource
    if "replicas" in ref:
        try:
            ref["replicas"] = int(ref["replicas"])
        except (TypeError, ValueError):
            raise InvalidInput("replicas must be a whole number, got %r" % (ref["replicas"],))
        if ref["replicas"] < 0:
            raise InvalidInput("replicas must be 0 or more, got %d" % ref["replicas"])
    return ref


def parse_ref(value, option="ref"):
    """What one reference says, as workload module options; InvalidInput naming ``option`` when it is not one."""
    try:
        return _parse(value)
    except InvalidInput as exc:
        raise InvalidInput("%s: %s" % (option, exc))


def parse_refs(value, option="ref"):
    """One reference, a list of them, or nothing (``""``, ``{}``, ``[]``, null) as a list of :func:`parse_ref` dicts."""
    if value in (None, "", {}, []):
        return []
    if isinstance(value, (list, tuple)):
        return [parse_ref(item, "%s[%d]" % (option, index)) for index, item in enumerate(value) if item not in (None, "", {})]
    return [parse_ref(value, option)]


def ref_label(ref):
    """The canonical string form of a parsed reference (``deployment/api``, ``statefulset/kafka``, ``compose/backend``),
    with the namespace or project when the reference itself says it (``production/deployment/worker``)."""
    if ref["kind"] == "kubernetes":
        text = "%s/%s" % (ref.get("resource") or "deployment", ref["name"])
        scope = ref.get("namespace")
    else:
        text = "%s/%s" % (ref["kind"], ref["name"])
        scope = ref.get("project")
    return "%s/%s" % (scope, text) if scope else text


def apply_ref(params, option="ref"):
    """``params`` (module options) with ``params[option]`` resolved: the reference's keys over the module's options.

    Without a reference, ``kind`` and ``name`` are required.  Raises InvalidInput naming the option.
    """
    params = dict(params)
    value = params.get(option)
    if value in (None, "", {}):
        if not params.get("name"):
            raise InvalidInput("%s, name: give the workload as %s (deployment/api, compose/backend, systemd/etl, or a dict) "
                               "or as kind and name" % (option, option))
        if not params.get("kind"):
            raise InvalidInput("kind: required with name (or give %s instead)" % option)
        return params
    for key in ("kind", "name"):
        if params.get(key):
            raise InvalidInput("%s, %s: give the workload once, as %s or as kind and name" % (option, key, option))
    ref = parse_ref(value, option)
    ref.pop("replicas", None)  # a target for roles that scale; the module's replicas option is explicit
    params.update(ref)
    return params
