# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ETL service's HTTP API (ETL runbook): health, reprocess a file, resolve transient DLQ entries.

``request`` is injected (``ansible.module_utils.urls.open_url`` in the module) so this
file stays free of Ansible's module plumbing; every call has a timeout.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput, scrub
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    CRITICAL,
    OK,
    make_action,
    make_finding,
)

ACTIONS = ("health", "reprocess", "resolve_transient")


def base_url(url):
    if not url or not url.startswith(("http://", "https://")):
        raise InvalidInput("api_url must start with http:// or https://, got %r" % (url,))
    return url.rstrip("/")


def headers(token):
    result = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        result["Authorization"] = "Bearer %s" % token
    return result


def call(request, method, url, token, timeout):
    """(status, body) of one request; (None, error text) when it could not be made."""
    try:
        resp = request(url, method=method, headers=headers(token), timeout=timeout, data=b"" if method == "POST" else None)
        return resp.getcode(), resp.read().decode("utf-8", "replace")
    except Exception as exc:  # urllib raises HTTPError (with a code), URLError, socket errors
        code = getattr(exc, "code", None)
        return code, scrub(str(exc), [token])


def health(request, params):
    url = base_url(params["api_url"]) + "/health"
    status, body = call(request, "GET", url, params.get("api_token"), params["timeout"])
    healthy = status is not None and 200 <= status < 300
    detail = None
    if healthy:
        try:
            detail = json.loads(body)
        except ValueError:
            detail = body[:200]
    message = "ETL API %s answered %s" % (url, status) if status else "ETL API %s is unreachable: %s" % (url, body)
    finding = make_finding("etl_api_health", OK if healthy else CRITICAL, message, value=status, target=url)
    return {"findings": [finding], "http_status": status, "health": detail}


def reprocess(request, params, check_mode):
    root = base_url(params["api_url"])
    ids = [str(i) for i in params.get("file_ids") or []]
    limit = params.get("max_files")
    if limit is not None and len(ids) > limit:
        raise InvalidInput("file_ids lists %d files, more than max_files=%d" % (len(ids), limit))
    actions = []
    for file_id in ids:
        url = "%s/files/%s/reprocess" % (root, file_id)
        if check_mode:
            actions.append(make_action("reprocess_file", url, False, True, "would POST %s" % url))
            continue
        status, body = call(request, "POST", url, params.get("api_token"), params["timeout"])
        ok = status is not None and 200 <= status < 300
        actions.append(make_action("reprocess_file", url, ok, False, "HTTP %s: %s" % (status, body[:200])))
    return _action_result(actions, check_mode)


def resolve_transient(request, params, check_mode):
    url = base_url(params["api_url"]) + "/dlq/resolve-transient"
    if check_mode:
        return _action_result([make_action("dlq_resolve_transient", url, False, True, "would POST %s" % url)], True)
    status, body = call(request, "POST", url, params.get("api_token"), params["timeout"])
    ok = status is not None and 200 <= status < 300
    return _action_result([make_action("dlq_resolve_transient", url, ok, False, "HTTP %s: %s" % (status, body[:200]))],
                          False)


def _action_result(actions, check_mode):
    failed = [a for a in actions if not a["dry_run"] and not a["changed"]]
    findings = []
    if failed:
        findings.append(make_finding("etl_api_action", CRITICAL, "%d of %d ETL API calls failed: %s"
                                     % (len(failed), len(actions), "; ".join(a["detail"] for a in failed)),
                                     value=len(failed), target=failed[0]["target"]))
    return {"changed": any(a["changed"] for a in actions) or (check_mode and bool(actions)),
            "actions": actions, "findings": findings}


def run(request, params, check_mode):
    action = params.get("action")
    if action == "health":
        return health(request, params)
    if action == "reprocess":
        return reprocess(request, params, check_mode)
    if action == "resolve_transient":
        return resolve_transient(request, params, check_mode)
    raise InvalidInput("action must be one of %s, got %r" % (", ".join(ACTIONS), action))
