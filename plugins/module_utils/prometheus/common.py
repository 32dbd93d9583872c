# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way opsbook talks to Prometheus: its HTTP API (``/api/v1``), standard library only.

Every request has a timeout. A server that cannot be reached (or is not ready yet)
raises ServiceUnreachable, a query Prometheus refuses raises InvalidInput carrying
Prometheus's own reason, and credentials never reach a message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import math
import socket
import ssl

try:
    from urllib.error import HTTPError, URLError
    from urllib.parse import urlencode, urlsplit, urlunsplit
    from urllib.request import HTTPSHandler, Request, build_opener
except ImportError:  # pragma: no cover - Python 2 is not supported
    HTTPError = URLError = urlencode = urlsplit = urlunsplit = HTTPSHandler = Request = build_opener = None

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import (
    InvalidInput,
    ServiceError,
    ServiceUnreachable,
    scrub,
)
from ansible_collections.opsbook.runbooks.plugins.module_utils.net.probes import ssl_context

MAX_BODY_BYTES = 16 * 1024 * 1024


def prometheus_common_argument_spec():
    """Connection options shared by every Prometheus module (doc fragment ``opsbook.runbooks.prometheus``)."""
    return dict(
        url=dict(type="str", required=True),
        bearer_token=dict(type="str", no_log=True),
        username=dict(type="str"),
        password=dict(type="str", no_log=True),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        timeout=dict(type="float", default=10.0),
    )


def _secrets(params):
    return [params.get("bearer_token"), params.get("password")]


def describe_target(params):
    """The server's URL without user information (what findings and messages name)."""
    url = (params.get("url") or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return scrub(url.rstrip("/"), _secrets(params))
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path.rstrip("/"), "", ""))


def url_password(url):
    """The password in a URL's user information (``https://user:password@host``), else None."""
    try:
        return urlsplit(url or "").password
    except ValueError:
        return None


def _float(raw):
    """A sample value as Prometheus writes it ("1.5", "NaN", "+Inf") -> float, None for NaN."""
    value = float(raw)
    return None if math.isnan(value) else value


class ApiClient(object):
    """An HTTP API client of one server: URL, basic or bearer auth, TLS, timeout, secret scrubbing.

    Shared by the Prometheus and Alertmanager clients (``product`` names the server in messages).
    """

    product = "Prometheus"

    def __init__(self, params):
        url = (params.get("url") or "").strip()
        if not url.startswith(("http://", "https://")):
            raise InvalidInput("url: expected an http:// or https:// URL of the %s server, got %r"
                               % (self.product, scrub(url, _secrets(params))))
        timeout = float(params.get("timeout") or 0)
        if timeout <= 0:
            raise InvalidInput("timeout must be a positive number of seconds, got %r" % params.get("timeout"))
        if params.get("bearer_token") and (params.get("username") or params.get("password")):
            raise InvalidInput("bearer_token and username/password are mutually exclusive")
        try:
            parts = urlsplit(url)
        except ValueError as exc:
            raise InvalidInput("url: not a valid URL (%s): %r" % (exc, describe_target(params)))
        username, password = params.get("username"), params.get("password")
        if parts.username and not username:
            username, password = parts.username, parts.password
        self.target = describe_target(params)  # also the base of every request: no user information
        self.timeout = timeout
        self.secrets = _secrets(params) + [parts.password]
        self.headers = {"User-Agent": "opsbook-%s" % self.product.lower(), "Accept": "application/json"}
        if params.get("bearer_token"):
            self.headers["Authorization"] = "Bearer %s" % params["bearer_token"]
        elif username:
            token = base64.b64encode(("%s:%s" % (username, password or "")).encode("utf-8")).decode("ascii")
            self.headers["Authorization"] = "Basic %s" % token
            self.secrets.append(token)
        self.opener = build_opener(HTTPSHandler(context=ssl_context(params)))

    def _fail(self, cls, message):
        raise cls(scrub(message, self.secrets))

    def _read(self, request, http_error):
        """The body of the answer to ``request`` (at most MAX_BODY_BYTES); an HTTP error status goes to
        ``http_error(exc)``, a server that cannot be reached to ``_unreachable`` (both raise)."""
        try:
            response = self.opener.open(request, timeout=self.timeout)
            try:
                return response.read(MAX_BODY_BYTES)
            finally:
                response.close()
        except HTTPError as exc:
            http_error(exc)
        except (URLError, OSError, socket.timeout, ssl.SSLError) as exc:
            self._unreachable(exc)

    def _unreachable(self, exc):
        reason = getattr(exc, "reason", None) or exc
        self._fail(ServiceUnreachable, "%s at %s is unreachable: %s"
                   % (self.product, self.target, str(reason) or exc.__class__.__name__))


class Prometheus(ApiClient):
    """A client of one Prometheus server (or anything serving its HTTP API: Thanos, Mimir, VictoriaMetrics)."""

    def get(self, path, **query):
        """GET ``/api/v1/<path>`` and return its ``data``."""
        url = "%s/api/v1/%s" % (self.target, path)
        if query:
            url += "?" + urlencode(dict((k, v) for k, v in query.items() if v is not None))
        body = self._read(Request(url, headers=self.headers), lambda exc: self._http_error(exc, path))
        document = self._json(body)
        if document.get("status") != "success":
            self._fail(ServiceError, "Prometheus at %s answered %s: %s"
                       % (self.target, document.get("errorType"), document.get("error")))
        return document.get("data")

    def _json(self, body):
        try:
            document = json.loads(body.decode("utf-8", "replace"))
        except ValueError:
            document = None
        if not isinstance(document, dict):
            self._fail(ServiceError, "%s did not answer with the Prometheus API's JSON (is it a Prometheus URL?)"
                       % self.target)
        return document

    def _http_error(self, exc, path):
        try:
            document = json.loads(exc.read(65536).decode("utf-8", "replace"))
        except Exception:  # the error body is best effort
            document = {}
        document = document if isinstance(document, dict) else {}
        reason = "%s: %s" % (document.get("errorType"), document.get("error")) if document.get("error") else exc.reason
        if exc.code in (400, 422) and path == "query":
            self._fail(InvalidInput, "Prometheus refused the query: %s" % reason)
        if exc.code in (401, 403):
            self._fail(ServiceError, "Prometheus at %s refused the credentials (HTTP %d)" % (self.target, exc.code))
        if exc.code == 503:
            self._fail(ServiceUnreachable, "Prometheus at %s is not ready (HTTP 503): %s" % (self.target, reason))
        self._fail(ServiceError, "Prometheus at %s answered HTTP %d for /api/v1/%s: %s"
                   % (self.target, exc.code, path, reason))

    def query(self, expr, at=None):
        """Evaluate an instant query: a list of ``{labels, value, raw}`` (``value`` None for NaN)."""
        data = self.get("query", query=expr, time=at, timeout="%ds" % max(1, int(self.timeout)))
        kind, result = data.get("resultType"), data.get("result")
        if kind == "vector":
            return [{"labels": dict(item.get("metric") or {}), "value": _float(item["value"][1]),
                     "raw": item["value"][1]} for item in result]
        if kind in ("scalar", "string"):
            return [{"labels": {}, "value": _float(result[1]) if kind == "scalar" else None, "raw": result[1]}]
        raise InvalidInput("the query returns a %s; wrap a range selector in a function such as rate() "
                           "or max_over_time() to get one value per series" % kind)

    def buildinfo(self):
        """Version information (``/api/v1/status/buildinfo``), None when the server does not serve it."""
        try:
            return self.get("status/buildinfo")
        except ServiceError:
            return None
