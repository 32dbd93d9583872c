# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way opsbook reaches Kubernetes (the ``kubernetes`` Python client).

``kubernetes_common_argument_spec()`` is documented by the doc fragment
``opsbook.runbooks.kubernetes``; a unit test keeps the two identical.

- :func:`auth_settings` resolves the connection options the way kubernetes.core does: a module
  option, else its ``K8S_AUTH_*`` environment variable (:data:`AUTH_ENV`).
- :func:`config_source` picks where the rest comes from: nothing when ``host`` and ``api_key``
  are both set, else a kubeconfig (option, ``K8S_AUTH_KUBECONFIG``, ``KUBECONFIG``, or
  ``~/.kube/config`` when it exists), else the in-cluster service account
  (:data:`SERVICE_ACCOUNT_DIR`, :data:`SERVICE_HOST_ENV` / :data:`SERVICE_PORT_ENV`).
- :func:`api_client` builds an ``ApiClient`` from that source, then applies ``host``,
  ``api_key``, ``ca_cert`` and ``validate_certs`` on top, with urllib3 retries off so that a
  dead API server fails within one request timeout.
- :func:`call` runs one API method with ``_request_timeout`` and maps failures:
  ``ApiException`` -> :class:`ServiceError` (404 -> the caller's ``not_found`` text),
  connection errors and timeouts -> :class:`ServiceUnreachable`.  Messages are scrubbed.
- :class:`Kube` bundles the client, the namespace, the timeout and the API groups.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import warnings

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import (
    InvalidInput,
    MissingDependency,
    PermissionDenied,
    ServiceError,
    ServiceUnreachable,
    scrub,
)

try:
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.client.rest import ApiException

    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised by ansible-test import sanity
    k8s_client = k8s_config = None
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = exc

    class ApiException(Exception):
        """Stand-in so that except clauses stay valid without the library."""

DEFAULT_REQUEST_TIMEOUT = 30.0
_KUBECONFIG_SECRET = re.compile(r"((?:token|password|client-key-data|client-certificate-data|id-token|refresh-token)\"?\'?\s*[:=]\s*)\S+", re.I)


# RFC 1123 as Kubernetes applies it (k8s.io/apimachinery/pkg/util/validation): a DNS label names
# namespaces and Services, a DNS subdomain Deployments, StatefulSets, ConfigMaps and Secrets.
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")


def validate_name(value, option, subdomain=True):
    """``value`` if it is a valid Kubernetes object name, else InvalidInput naming ``option``.

    ``subdomain`` (Deployments, ConfigMaps...): RFC 1123 subdomain, at most 253 characters;
    otherwise (namespaces) an RFC 1123 label, at most 63.
    """
    limit, pattern = (253, _DNS1123_SUBDOMAIN) if subdomain else (63, _DNS1123_LABEL)
    text = value if isinstance(value, str) else None
    if text is None or len(text) > limit or not pattern.match(text):
        shown = repr(value) if not isinstance(value, str) or len(value) <= 80 else "%r... (%d characters)" % (value[:80], len(value))
        raise InvalidInput("%s: %s is not a valid Kubernetes %s (RFC 1123: at most %d characters, lower-case letters, "
                           "digits and '-'%s, starting and ending with a letter or digit)"
                           % (option, shown, "name" if subdomain else "namespace", limit, ", '.'" if subdomain else ""))
    return text


def scrub_kubeconfig_text(text):
    """``scrub`` plus kubeconfig credentials (token, password, key data) that a loader error may quote."""
    return _KUBECONFIG_SECRET.sub(r"\1********", scrub(text))


DEFAULT_KUBECONFIG = "~/.kube/config"
# The in-cluster service account (what kubernetes.config.load_incluster_config reads); tests point these elsewhere.
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
SERVICE_HOST_ENV = "KUBERNETES_SERVICE_HOST"
SERVICE_PORT_ENV = "KUBERNETES_SERVICE_PORT"
# Option -> the environment variables read when the option is not set, first set wins (kubernetes.core's names:
# K8S_AUTH_<option>, then K8S_AUTH_<kubernetes client attribute>).
AUTH_ENV = {
    "kubeconfig": ("K8S_AUTH_KUBECONFIG",),
    "context": ("K8S_AUTH_CONTEXT",),
    "host": ("K8S_AUTH_HOST",),
    "api_key": ("K8S_AUTH_API_KEY",),
    "ca_cert": ("K8S_AUTH_CA_CERT", "K8S_AUTH_SSL_CA_CERT"),
    "validate_certs": ("K8S_AUTH_VALIDATE_CERTS", "K8S_AUTH_VERIFY_SSL"),
}
ENV_NAMES = tuple(name for names in AUTH_ENV.values() for name in names) + (SERVICE_HOST_ENV, SERVICE_PORT_ENV)
_TRUE = ("1", "true", "yes", "on", "y")
_FALSE = ("0", "false", "no", "off", "n")


def kubernetes_common_argument_spec():
    """Connection options every Kubernetes module accepts."""
    return dict(
        kubeconfig=dict(type="path"),
        context=dict(type="str"),
        host=dict(type="str"),
        api_key=dict(type="str", no_log=True),
        ca_cert=dict(type="path", aliases=["ssl_ca_cert"]),
        validate_certs=dict(type="bool", aliases=["verify_ssl"]),
        namespace=dict(type="str", default="default"),
    )


def _env_bool(name, value):
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise InvalidInput("%s: expected true or false, got %r" % (name, value))


def auth_settings(params, environ=None):
    """``{option: (value, source)}`` for the options of :data:`AUTH_ENV` that are set.

    ``source`` is the option name when the module option is set, else the ``K8S_AUTH_*``
    variable it came from.  Pure: reads only ``params`` and ``environ`` (default ``os.environ``).
    """
    environ = os.environ if environ is None else environ
    settings = {}
    for option, names in AUTH_ENV.items():
        value = params.get(option)
        if value is not None and value != "":
            settings[option] = (value, option)
            continue
        for name in names:
            raw = environ.get(name)
            if raw is None or raw == "":
                continue
            if option == "validate_certs":
                raw = _env_bool(name, raw)
            elif option in ("kubeconfig", "ca_cert"):
                raw = os.path.expanduser(raw)
            settings[option] = (raw, name)
            break
    return settings


def service_account_files(directory=None):
    """The token and CA files of the in-cluster service account in ``directory`` (default :data:`SERVICE_ACCOUNT_DIR`)."""
    directory = directory or SERVICE_ACCOUNT_DIR
    return os.path.join(directory, "token"), os.path.join(directory, "ca.crt")


def config_source(settings, environ=None, isfile=os.path.isfile, service_account_dir=None):
    """Where the connection comes from besides ``settings``: ``("none", None)``, ``("kubeconfig", path)`` or
    ``("in-cluster", directory)``; :class:`ServiceUnreachable` naming what is missing when none applies.

    Order: ``host`` + ``api_key`` need nothing else; an explicit kubeconfig (``kubeconfig`` /
    ``K8S_AUTH_KUBECONFIG`` / ``KUBECONFIG``) or a ``context`` means that kubeconfig; else
    ``~/.kube/config`` if it exists; else the in-cluster service account if the service host is set
    and the token exists.
    """
    environ = os.environ if environ is None else environ
    if "host" in settings and "api_key" in settings:
        return "none", None
    if "kubeconfig" in settings:
        return "kubeconfig", settings["kubeconfig"][0]
    if environ.get("KUBECONFIG"):
        return "kubeconfig", environ["KUBECONFIG"]
    default = os.path.expanduser(DEFAULT_KUBECONFIG)
    if "context" in settings or isfile(default):
        return "kubeconfig", default
    directory = service_account_dir or SERVICE_ACCOUNT_DIR
    token, ca = service_account_files(directory)
    if environ.get(SERVICE_HOST_ENV) and environ.get(SERVICE_PORT_ENV) and isfile(token):
        return "in-cluster", directory
    if not environ.get(SERVICE_HOST_ENV):
        pod = "%s is not set" % SERVICE_HOST_ENV
    elif not environ.get(SERVICE_PORT_ENV):
        pod = "%s is not set" % SERVICE_PORT_ENV
    else:
        pod = "%s does not exist" % token
    if "host" in settings:
        missing = "host is set (%s) but api_key is not" % settings["host"][1]
    elif "api_key" in settings:
        missing = "api_key is set (%s) but host is not" % settings["api_key"][1]
    else:
        missing = "no Kubernetes credentials: set host and api_key"
    raise ServiceUnreachable("%s, and there is no kubeconfig (%s does not exist, KUBECONFIG is not set) nor an in-cluster "
                             "service account (%s)" % (missing, default, pod))


def kubeconfig_path(params, environ=None):
    """The kubeconfig file(s) that will be read: the option, else K8S_AUTH_KUBECONFIG, else KUBECONFIG, else ~/.kube/config."""
    environ = os.environ if environ is None else environ
    return (params.get("kubeconfig") or environ.get("K8S_AUTH_KUBECONFIG") or environ.get("KUBECONFIG")
            or os.path.expanduser(DEFAULT_KUBECONFIG))


def request_timeout(timeout=None):
    """Seconds for one API request: the smaller of ``timeout`` and 30 s."""
    if not timeout or timeout <= 0:
        return DEFAULT_REQUEST_TIMEOUT
    return min(float(timeout), DEFAULT_REQUEST_TIMEOUT)


def _load_kubeconfig(configuration, path, context):
    try:
        k8s_config.load_kube_config(config_file=path, context=context, client_configuration=configuration, persist_config=False)
    except Exception as exc:  # the loader raises ConfigException, IOError, yaml errors...
        first_line = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
        raise ServiceUnreachable(scrub_kubeconfig_text("cannot load the kubeconfig %s (context %s): %s" % (
            path, context or "current", first_line)))


def _load_in_cluster(configuration, directory, environ):
    token, ca = service_account_files(directory)
    loader = k8s_config.incluster_config.InClusterConfigLoader(token_filename=token, cert_filename=ca, environ=environ)
    try:
        loader.load_and_set(configuration)
    except Exception as exc:  # ConfigException, IOError
        raise ServiceUnreachable(scrub("cannot use the in-cluster service account %s: %s" % (directory, exc)))


def _overrides(settings):
    """Configuration attributes set from the options, on top of the loaded kubeconfig / service account."""
    values = {}
    if "host" in settings:
        values["host"] = settings["host"][0].rstrip("/")
    if "api_key" in settings:
        values["api_key"] = {"authorization": "Bearer %s" % settings["api_key"][0]}
        values["api_key_prefix"] = {}
    if "ca_cert" in settings:
        path, source = settings["ca_cert"]
        if not os.path.isfile(path):
            raise InvalidInput("ca_cert: the CA file %s (%s) does not exist" % (path, source))
        values["ssl_ca_cert"] = path
    if "validate_certs" in settings:
        values["verify_ssl"] = bool(settings["validate_certs"][0])
    return values


def _apply(configuration, values):
    def set_all(config):
        for key, value in values.items():
            setattr(config, key, dict(value) if isinstance(value, dict) else value)  # a copy: loaders mutate api_key in place

    set_all(configuration)
    hook = configuration.refresh_api_key_hook
    if hook is not None and values:
        # The in-cluster loader (and exec plugins) refresh the token before requests, re-installing their own hook:
        # keep the options, and this hook, on top.
        def refresh(config):
            hook(config)
            set_all(config)
            config.refresh_api_key_hook = refresh

        configuration.refresh_api_key_hook = refresh


def api_client(params, environ=None, service_account_dir=None):
    """An ``ApiClient`` for ``params``: options, then ``K8S_AUTH_*`` (``environ``, default ``os.environ``), on top of a
    kubeconfig or the in-cluster service account (:func:`config_source`).

    ServiceUnreachable when no source can be loaded, InvalidInput for a bad option (e.g. a missing ca_cert).
    """
    if not HAS_KUBERNETES:
        raise MissingDependency("kubernetes", KUBERNETES_IMPORT_ERROR)
    environ = os.environ if environ is None else environ
    settings = auth_settings(params, environ)
    secrets = [settings["api_key"][0]] if "api_key" in settings else []
    configuration = k8s_client.Configuration()
    try:
        kind, where = config_source(settings, environ, service_account_dir=service_account_dir)
        if kind == "kubeconfig":
            _load_kubeconfig(configuration, where, settings.get("context", (None,))[0])
        elif kind == "in-cluster":
            _load_in_cluster(configuration, where, environ)
        _apply(configuration, _overrides(settings))
    except (InvalidInput, ServiceUnreachable) as exc:
        raise exc.__class__(scrub(str(exc), secrets))
    if not configuration.verify_ssl:
        warnings.filterwarnings("ignore", message="Unverified HTTPS request")  # the user asked for validate_certs: false
    configuration.retries = False  # one attempt per call: the request timeout is the bound
    return k8s_client.ApiClient(configuration)


def client_secrets(client):
    """The bearer token ``client`` sends (from api_key, a kubeconfig or the service account), to scrub from messages."""
    value = (client.configuration.api_key or {}).get("authorization") or ""
    return [value, value.split(" ", 1)[-1]] if value else []


def server_url(client):
    """The API server URL of ``client`` (for messages)."""
    return scrub(client.configuration.host)


def _status_message(exc):
    """The ``message`` of a Kubernetes Status body, else the HTTP reason."""
    try:
        return json.loads(exc.body).get("message") or exc.reason
    except (TypeError, ValueError, AttributeError):
        return exc.reason


def call(func, *args, **kwargs):
    """Run ``func(*args, **kwargs)`` bounded by a request timeout, mapping errors to opsbook's.

    Extra keyword arguments (removed before the call): ``timeout`` (seconds, default 30),
    ``not_found`` (message for a 404), ``server`` (URL shown when unreachable), ``secrets`` (texts to scrub).
    """
    timeout = request_timeout(kwargs.pop("timeout", None))
    not_found = kwargs.pop("not_found", None)
    server = kwargs.pop("server", None)
    secrets = kwargs.pop("secrets", ())
    kwargs["_request_timeout"] = timeout
    try:
        return func(*args, **kwargs)
    except ApiException as exc:
        if exc.status == 404 and not_found:
            raise ServiceError(not_found)
        if exc.status in (None, 0):
            raise ServiceUnreachable("Kubernetes API is unreachable%s: %s" % (" at %s" % server if server else "", scrub(exc.reason, secrets)))
        if exc.status == 403:
            raise PermissionDenied(scrub("Kubernetes API error 403 (Forbidden): %s" % _status_message(exc), secrets))
        hint = " (the API server refused the credentials: check api_key / the kubeconfig's user)" if exc.status == 401 else ""
        raise ServiceError(scrub("Kubernetes API error %s (%s): %s%s" % (exc.status, exc.reason, _status_message(exc), hint), secrets))
    except (MissingDependency, ServiceError, ServiceUnreachable):
        raise
    except Exception as exc:  # urllib3 connection errors, timeouts, TLS errors
        raise ServiceUnreachable(scrub("Kubernetes API is unreachable%s: %s within %ss" % (
            " at %s" % server if server else "", exc.__class__.__name__, timeout), secrets))


class Kube(object):
    """A client bound to one namespace and request timeout, with the API groups opsbook uses."""

    def __init__(self, params, timeout=None):
        self.client = api_client(params)
        self.namespace = validate_name(params.get("namespace") or "default", "namespace", subdomain=False)
        self.timeout = request_timeout(timeout)
        self.server = server_url(self.client)
        self.secrets = client_secrets(self.client)
        self.apps = k8s_client.AppsV1Api(self.client)
        self.core = k8s_client.CoreV1Api(self.client)

    def call(self, func, *args, **kwargs):
        """:func:`call` with this client's timeout and server."""
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("server", self.server)
        kwargs.setdefault("secrets", self.secrets)
        return call(func, *args, **kwargs)

    def pod_logs(self, pod, container=None, since_seconds=None, tail_lines=None, timestamps=False, previous=False):
        """Lines of one pod's container log in this namespace (``kubectl logs``), oldest first."""
        kwargs = dict((key, value) for key, value in (("container", container), ("since_seconds", since_seconds),
                                                      ("tail_lines", tail_lines)) if value is not None)
        text = self.call(self.core.read_namespaced_pod_log, pod, self.namespace, timestamps=bool(timestamps), previous=bool(previous),
                         not_found="pod %s/%s not found" % (self.namespace, pod), **kwargs)
        return (text or "").splitlines()

    def to_dict(self, obj):
        """A client model as the API's JSON dict (camelCase keys), e.g. to copy a pod template."""
        return self.client.sanitize_for_serialization(obj)


def selector_string(match_labels):
    """``{a: 1, b: 2}`` -> ``a=1,b=2`` (sorted), for ``label_selector``."""
    return ",".join("%s=%s" % item for item in sorted((match_labels or {}).items()))
