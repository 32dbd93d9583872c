# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way opsbook talks to Alertmanager: its HTTP API v2 (``/api/v2``), standard library only.

The connection options, authentication, TLS, timeout and secret scrubbing are those of the
Prometheus client (``prometheus/common.py``, class ``ApiClient``). An Alertmanager that cannot be
reached raises ServiceUnreachable; one that refuses a request raises InvalidInput (HTTP 400, with
Alertmanager's reason) or ServiceError; credentials never reach a message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

try:
    from urllib.parse import quote
    from urllib.request import Request
except ImportError:  # pragma: no cover - Python 2 is not supported
    quote = Request = None

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import (
    InvalidInput,
    ServiceError,
    ServiceUnreachable,
)
from ansible_collections.opsbook.runbooks.plugins.module_utils.prometheus.common import (
    ApiClient,
    describe_target,
    prometheus_common_argument_spec,
    url_password,
)

__all__ = ["Alertmanager", "alertmanager_common_argument_spec", "describe_target", "url_password"]


def alertmanager_common_argument_spec():
    """Connection options shared by every Alertmanager module (doc fragment ``opsbook.runbooks.alertmanager``).

    The same options as Prometheus's (``url``, ``bearer_token`` or ``username``/``password``,
    ``validate_certs``, ``ca_path``, ``timeout``); ``token`` is an alias of ``bearer_token``.
    """
    spec = prometheus_common_argument_spec()
    spec["bearer_token"] = dict(spec["bearer_token"], aliases=["token"])
    return spec


class Alertmanager(ApiClient):
    """A client of one Alertmanager (API v2)."""

    product = "Alertmanager"

    def call(self, method, path, body=None):
        """``method`` ``/api/v2/<path>`` with an optional JSON body; the decoded JSON answer (None when empty)."""
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        request = Request("%s/api/v2/%s" % (self.target, path), data=data, headers=headers, method=method)
        raw = self._read(request, lambda exc: self._http_error(exc, method, path))
        if not raw.strip():
            return None
        try:
            return json.loads(raw.decode("utf-8", "replace"))
        except ValueError:
            self._fail(ServiceError, "%s did not answer with Alertmanager's JSON for %s /api/v2/%s "
                       "(is it an Alertmanager URL?)" % (self.target, method, path))

    def _http_error(self, exc, method, path):
        try:
            reason = exc.read(65536).decode("utf-8", "replace").strip().strip('"') or exc.reason
        except Exception:  # the error body is best effort
            reason = exc.reason
        if exc.code == 400:
            self._fail(InvalidInput, "Alertmanager refused %s /api/v2/%s: %s" % (method, path, reason))
        if exc.code in (401, 403):
            self._fail(ServiceError, "Alertmanager at %s refused the credentials (HTTP %d)" % (self.target, exc.code))
        if exc.code in (502, 503, 504):
            self._fail(ServiceUnreachable, "Alertmanager at %s is not available (HTTP %d): %s"
                       % (self.target, exc.code, reason))
        self._fail(ServiceError, "Alertmanager at %s answered HTTP %d for %s /api/v2/%s: %s"
                   % (self.target, exc.code, method, path, reason))

    def status(self):
        """``/api/v2/status``: version, cluster, config."""
        return self.call("GET", "status") or {}

    def version(self):
        return (self.status().get("versionInfo") or {}).get("version")

    def silences(self):
        return self.call("GET", "silences") or []

    def post_silence(self, silence):
        """Create (or, with ``id``, update) a silence; its id."""
        return (self.call("POST", "silences", silence) or {}).get("silenceID")

    def expire_silence(self, silence_id):
        self.call("DELETE", "silence/%s" % quote(str(silence_id), safe=""))
