# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TCP reachability and HTTP health probes (port_check, http_health).

Every probe has a bounded timeout and runs concurrently in a bounded thread pool;
an endpoint that cannot be reached becomes a finding, never an exception.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor

try:
    from urllib.request import Request, build_opener, HTTPSHandler, HTTPRedirectHandler
    from urllib.error import HTTPError, URLError
except ImportError:  # pragma: no cover - Python 2 is not supported
    Request = build_opener = HTTPSHandler = HTTPRedirectHandler = HTTPError = URLError = None

try:
    import jmespath

    HAS_JMESPATH = True
except ImportError:  # pragma: no cover - exercised by ansible-test import sanity
    jmespath = None
    HAS_JMESPATH = False

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput, MissingDependency
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    CRITICAL,
    OK,
    make_finding,
    overall,
    threshold_finding,
)

MAX_WORKERS = 16


def _ms(started):
    return round((time.time() - started) * 1000.0, 2)


def _pool_map(func, items, workers):
    workers = max(1, min(int(workers), MAX_WORKERS, len(items) or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, items))


# --------------------------------------------------------------------------- TCP


def normalize_targets(targets, default_timeout):
    """Validate ``targets`` (list of dicts with host, port[, name, timeout])."""
    if not targets:
        raise InvalidInput("targets: at least one host/port is required")
    result = []
    for index, item in enumerate(targets):
        if not isinstance(item, dict) or not item.get("host"):
            raise InvalidInput("targets[%d]: host is required" % index)
        try:
            port = int(item.get("port"))
        except (TypeError, ValueError):
            raise InvalidInput("targets[%d]: port must be an integer, got %r" % (index, item.get("port")))
        if not 0 < port < 65536:
            raise InvalidInput("targets[%d]: port must be between 1 and 65535, got %d" % (index, port))
        timeout = float(item.get("timeout") or default_timeout)
        if timeout <= 0:
            raise InvalidInput("targets[%d]: timeout must be positive" % index)
        result.append({
            "host": str(item["host"]),
            "port": port,
            "name": str(item.get("name") or "%s:%d" % (item["host"], port)),
            "timeout": timeout,
        })
    return result


def tcp_probe(target):
    """Open (then close) one TCP connection; return {name, host, port, reachable, latency_ms, error}."""
    started = time.time()
    result = {"name": target["name"], "host": target["host"], "port": target["port"]}
    try:
        sock = socket.create_connection((target["host"], target["port"]), timeout=target["timeout"])
        sock.close()
        result.update(reachable=True, latency_ms=_ms(started), error=None)
    except (OSError, socket.timeout) as exc:
        result.update(reachable=False, latency_ms=None, error=str(exc) or exc.__class__.__name__)
    return result


def tcp_finding(probe, warn_ms, crit_ms):
    if not probe["reachable"]:
        return make_finding("port_reachable", CRITICAL,
                            "%s (%s:%d) is not reachable: %s" % (probe["name"], probe["host"], probe["port"], probe["error"]),
                            target=probe["name"])
    return threshold_finding("port_latency", probe["latency_ms"], warn_ms, crit_ms, unit="ms",
                             target=probe["name"], label="TCP connect time to %s" % probe["name"])


def port_check(params):
    targets = normalize_targets(params["targets"], params["timeout"])
    probes = _pool_map(tcp_probe, targets, params["concurrency"])
    findings = [tcp_finding(p, params["latency_warn_ms"], params["latency_crit_ms"]) for p in probes]
    return {
        "ports": probes,
        "findings": findings,
        "reachable_count": sum(1 for p in probes if p["reachable"]),
        "unreachable_count": sum(1 for p in probes if not p["reachable"]),
        "status": overall(findings),
    }


# -------------------------------------------------------------------------- HTTP


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def normalize_endpoints(endpoints, defaults):
    """Validate ``endpoints`` (list of URLs or dicts) and fill in module-level defaults."""
    if not endpoints:
        raise InvalidInput("endpoints: at least one URL is required")
    result = []
    for index, item in enumerate(endpoints):
        if isinstance(item, str):
            item = {"url": item}
        if not isinstance(item, dict) or not item.get("url"):
            raise InvalidInput("endpoints[%d]: url is required" % index)
        url = str(item["url"])
        if not url.startswith(("http://", "https://")):
            raise InvalidInput("endpoints[%d]: url must start with http:// or https://, got %r" % (index, url))
        merged = dict(defaults)
        merged.update(dict((k, v) for k, v in item.items() if v is not None))
        merged["url"] = url
        merged["name"] = str(item.get("name") or url)
        codes = merged.get("expected_status") or [200]
        if not isinstance(codes, list):
            codes = [codes]
        try:
            merged["expected_status"] = [int(c) for c in codes]
        except (TypeError, ValueError):
            raise InvalidInput("endpoints[%d]: expected_status must be integers, got %r" % (index, codes))
        if merged.get("json_query") and not HAS_JMESPATH:
            raise MissingDependency("jmespath")
        if merged.get("json_query"):
            try:
                jmespath.compile(merged["json_query"])
            except Exception as exc:  # jmespath raises several ParseError types
                raise InvalidInput("endpoints[%d]: json_query %r is not valid JMESPath: %s" % (index, merged["json_query"], exc))
        if float(merged.get("timeout") or 0) <= 0:
            raise InvalidInput("endpoints[%d]: timeout must be positive" % index)
        result.append(merged)
    return result


def ssl_context(endpoint):
    """An SSL context from ``validate_certs`` and ``ca_path`` of ``endpoint`` (a dict)."""
    if not endpoint.get("validate_certs", True):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    try:
        return ssl.create_default_context(cafile=endpoint.get("ca_path") or None)
    except (OSError, ssl.SSLError) as exc:
        raise InvalidInput("ca_path: cannot load %r: %s" % (endpoint.get("ca_path"), exc))


def _read_json(body):
    try:
        return json.loads(body.decode("utf-8", "replace"))
    except ValueError:
        return None


def response_headers(message):
    """The response headers as ``{lower-case name: value}``; a repeated header's values joined with ``, ``."""
    headers = {}
    for name, value in (message.items() if message is not None else []):
        key = name.lower()
        headers[key] = "%s, %s" % (headers[key], value) if key in headers else value
    return headers


def http_probe(endpoint):
    """One request; return a result dict (never raises for network errors).

    ``capture_headers`` in ``endpoint`` adds ``headers`` (:func:`response_headers`) to the result.
    """
    result = {"name": endpoint["name"], "url": endpoint["url"], "status_code": None, "latency_ms": None,
              "json_value": None, "error": None}
    opener = build_opener(HTTPSHandler(context=ssl_context(endpoint)), _NoRedirect())
    request = Request(endpoint["url"], method=endpoint.get("method", "GET"),
                      headers=dict(endpoint.get("headers") or {}, **{"User-Agent": "opsbook-http-health"}))
    started = time.time()
    body = b""
    try:
        response = opener.open(request, timeout=float(endpoint["timeout"]))
        try:
            body = response.read(endpoint.get("max_body_bytes", 1048576))
            result["status_code"] = response.status
            if endpoint.get("capture_headers"):
                result["headers"] = response_headers(response.headers)
        finally:
            response.close()
    except HTTPError as exc:
        result["status_code"] = exc.code
        if endpoint.get("capture_headers"):
            result["headers"] = response_headers(exc.headers)
        try:
            body = exc.read(endpoint.get("max_body_bytes", 1048576))
        except Exception:  # the error body is best effort
            body = b""
    except (URLError, OSError, socket.timeout, ssl.SSLError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        result["error"] = str(reason) or exc.__class__.__name__
        return result
    result["latency_ms"] = _ms(started)
    if endpoint.get("json_query"):
        document = _read_json(body)
        result["json_value"] = None if document is None else jmespath.search(endpoint["json_query"], document)
        result["json_is_document"] = document is not None
    return result


def expected_values(expected):
    """``json_expected`` as a list of texts (one value or several), or None when unset."""
    if expected is None or expected == []:
        return None
    if not isinstance(expected, (list, tuple)):
        expected = [expected]
    return [str(e) for e in expected]


def http_findings(probe, endpoint):
    name = endpoint["name"]
    if probe["error"]:
        return [make_finding("http_reachable", CRITICAL, "%s is unreachable: %s" % (name, probe["error"]), target=name)]
    findings = []
    if probe["status_code"] in endpoint["expected_status"]:
        findings.append(make_finding("http_status", OK, "%s answered HTTP %d" % (name, probe["status_code"]),
                                     value=probe["status_code"], target=name))
    else:
        findings.append(make_finding(
            "http_status", CRITICAL,
            "%s answered HTTP %d, expected %s" % (name, probe["status_code"], "/".join(str(c) for c in endpoint["expected_status"])),
            value=probe["status_code"], threshold={"expected": endpoint["expected_status"]}, target=name))
    if endpoint.get("json_query"):
        expected = expected_values(endpoint.get("json_expected"))
        value = probe["json_value"]
        if not probe.get("json_is_document"):
            findings.append(make_finding("http_json", CRITICAL, "%s did not return a JSON body" % name, target=name))
        elif (expected is None and value in (None, False, "", [], {})) or (expected is not None and str(value) not in expected):
            wanted = "a truthy value" if expected is None else (repr(expected[0]) if len(expected) == 1 else "one of %s" % ", ".join(expected))
            findings.append(make_finding(
                "http_json", CRITICAL, "%s: %s is %r, expected %s" % (name, endpoint["json_query"], value, wanted),
                value=value if isinstance(value, (int, float, str)) else None, threshold={"expected": expected}, target=name))
        else:
            findings.append(make_finding("http_json", OK, "%s: %s is %r" % (name, endpoint["json_query"], value),
                                         value=value, target=name))
    findings.append(threshold_finding("http_latency", probe["latency_ms"], endpoint.get("latency_warn_ms"),
                                      endpoint.get("latency_crit_ms"), unit="ms", target=name,
                                      label="response time of %s" % name))
    return findings


def http_health(params):
    defaults = dict(
        timeout=params["timeout"],
        expected_status=params["expected_status"],
        json_query=params["json_query"],
        json_expected=params["json_expected"],
        validate_certs=params["validate_certs"],
        ca_path=params["ca_path"],
        method="GET",
        latency_warn_ms=params["latency_warn_ms"],
        latency_crit_ms=params["latency_crit_ms"],
    )
    endpoints = normalize_endpoints(params["endpoints"], defaults)
    for endpoint in endpoints:
        ssl_context(endpoint)  # bad ca_path is bad input, reported before any request
    probes = _pool_map(http_probe, endpoints, params["concurrency"])
    findings = []
    results = []
    for probe, endpoint in zip(probes, endpoints):
        own = http_findings(probe, endpoint)
        probe.pop("json_is_document", None)
        probe["status"] = overall(own)
        findings.extend(own)
        results.append(probe)
    return {
        "endpoints": results,
        "findings": findings,
        "healthy_count": sum(1 for r in results if r["status"] == OK),
        "unhealthy_count": sum(1 for r in results if r["status"] != OK),
        "status": overall(findings),
    }
