# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prune stopped containers, unused images, unused volumes and networks through the Engine API.

The engine's own prune endpoints do the work (what ``docker container/image/volume/network prune -f`` call);
the bytes reclaimed are the engine's ``SpaceReclaimed``. ``filters`` are the engine's prune filters
(``label``, ``label!``, ``until``), so a prune can be scoped to what carries a label
(``{"label": ["com.example.prunable=true"]}``); ``until`` does not apply to volumes (the engine refuses it).

In check mode nothing is removed: the candidates are listed with the list endpoints and the same filters
(stopped containers; dangling images, or every image no container uses with ``all_images``; volumes no
container uses; networks without containers, the predefined ones excepted). ``until`` is applied to the
candidates' creation times.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import re
import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import OK, make_action, make_finding
from ansible_collections.opsbook.runbooks.plugins.module_utils.docker.common import engine

KINDS = ("containers", "images", "volumes", "networks")
PREDEFINED_NETWORKS = ("bridge", "host", "none")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(h|m|s)\Z")


def engine_filters(filters, kind, all_images=False):
    """The prune filters of one kind, as the engine wants them: ``{name: [values]}``."""
    out = {}
    for key, value in sorted((filters or {}).items()):
        if key not in ("label", "label!", "until"):
            raise InvalidInput("filters: expected label, label! or until, got %r" % key)
        if key == "until" and kind == "volumes":
            continue
        out[key] = [value] if isinstance(value, str) else [str(v) for v in value]
    if kind == "images":
        out["dangling"] = ["false" if all_images else "true"]
    return out


def until_seconds(value, now):
    """A prune ``until`` (``168h``, ``30m``, a UNIX timestamp) as a UNIX time."""
    found = _DURATION.match(str(value))
    if found:
        return now - float(found.group(1)) * {"h": 3600, "m": 60, "s": 1}[found.group(2)]
    try:
        return float(value)
    except ValueError:
        raise InvalidInput("filters.until: expected a duration like 168h or a UNIX timestamp, got %r" % (value,))


def _created(item):
    created = item.get("Created") or item.get("CreatedAt")
    if isinstance(created, (int, float)):
        return created
    if isinstance(created, str):
        try:
            return calendar.timegm(time.strptime(created[:19], "%Y-%m-%dT%H:%M:%S"))
        except ValueError:
            return None
    return None


def candidates(client, kind, filters, all_images, now):
    """What a prune of ``kind`` would remove: ``[{id, name, bytes}]`` (bytes where the engine tells)."""
    list_filters = dict((k, v) for k, v in engine_filters(filters, kind, all_images).items() if k != "until")
    if kind == "containers":
        list_filters["status"] = ["created", "exited", "dead"]
        found = client.listing("containers", list_filters, size=True)
        items = [{"id": c["Id"][:12], "name": (c.get("Names") or ["?"])[0].lstrip("/"), "bytes": c.get("SizeRw") or 0,
                  "created": _created(c)} for c in found]
    elif kind == "images":
        if all_images:
            list_filters.pop("dangling", None)
        found = client.listing("images", list_filters)
        used = set(c.get("ImageID") for c in client.listing("containers"))
        items = [{"id": i["Id"].split(":")[-1][:12], "name": ",".join(i.get("RepoTags") or []) or "<none>",
                  "bytes": i.get("Size") or 0, "created": _created(i)} for i in found if i["Id"] not in used]
    elif kind == "volumes":
        list_filters["dangling"] = ["true"]
        found = client.listing("volumes", list_filters)
        sizes = dict((v["Name"], ((v.get("UsageData") or {}).get("Size") or 0))
                     for v in client.system_df().get("Volumes") or [])
        items = [{"id": v["Name"], "name": v["Name"], "bytes": max(sizes.get(v["Name"], 0), 0), "created": _created(v)}
                 for v in found]
    else:
        list_filters["dangling"] = ["true"]
        found = client.listing("networks", list_filters)
        items = [{"id": n["Id"][:12], "name": n["Name"], "bytes": 0, "created": _created(n)}
                 for n in found if n["Name"] not in PREDEFINED_NETWORKS]
    until = (filters or {}).get("until")
    if until and kind != "volumes":
        limit = until_seconds(until, now)
        items = [i for i in items if i["created"] is not None and i["created"] < limit]
    return items


def _deleted(kind, report):
    if kind == "images":
        return [d.get("Deleted") or d.get("Untagged") for d in report.get("ImagesDeleted") or []]
    return list(report.get({"containers": "ContainersDeleted", "volumes": "VolumesDeleted",
                            "networks": "NetworksDeleted"}[kind]) or [])


def run(params, check_mode, now=None):
    now = time.time() if now is None else now
    kinds = [kind for kind in KINDS if params.get(kind)]
    if not kinds:
        raise InvalidInput("nothing to prune: set containers, images, volumes or networks to true")
    client = engine(params, params.get("timeout"))
    client.version()  # reachability first: an unreachable engine is one finding, not four
    filters = params.get("filters") or {}
    pruned, findings, actions, total = [], [], [], 0
    for kind in kinds:
        target = "docker %s" % kind
        if check_mode:
            items = candidates(client, kind, filters, params.get("all_images"), now)
            reclaimed = sum(i["bytes"] for i in items)
            removed = ["%s (%s)" % (i["name"], i["id"]) if i["name"] != i["id"] else i["id"] for i in items]
            detail = "would prune %d %s (about %d bytes)" % (len(items), kind, reclaimed)
            actions.append(make_action("docker_prune", target, False, True, detail))
        else:
            report = client.prune(kind, engine_filters(filters, kind, params.get("all_images")))
            removed = [r for r in _deleted(kind, report) if r]
            reclaimed = int(report.get("SpaceReclaimed") or 0)
            detail = "pruned %d %s, %d bytes reclaimed" % (len(removed), kind, reclaimed)
            actions.append(make_action("docker_prune", target, bool(removed), False, detail))
        total += reclaimed
        pruned.append({"kind": kind, "removed": removed, "space_reclaimed": reclaimed})
        findings.append(make_finding("docker_prune", OK, detail, value=reclaimed, unit="bytes", target=target,
                                     phase="remediate"))
    return {"changed": any(a["changed"] for a in actions), "pruned": pruned, "space_reclaimed": total,
            "filters": filters, "findings": findings, "actions": actions}
