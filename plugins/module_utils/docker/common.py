# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way opsbook reaches the Docker engine: a small Engine API client, stdlib only.

``docker_common_argument_spec()`` is documented by the doc fragment ``opsbook.runbooks.docker``;
a unit test keeps the two identical.

:class:`Engine` speaks HTTP over the unix socket (``unix:///path``) or plain TCP
(``tcp://host:port``, no TLS) with ``http.client``; every request has a timeout.  Errors:
the engine cannot be reached -> :class:`ServiceUnreachable`; it answers 404 -> the caller's
``not_found`` text or the engine's message (:class:`ServiceError`); any other error status ->
:class:`ServiceError` with the engine's message.

Compose containers are found by the labels docker-compose sets
(``com.docker.compose.project`` / ``com.docker.compose.service``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import socket
import struct

try:
    from http import client as http_client
    from urllib.parse import quote, urlencode, urlparse
except ImportError:  # pragma: no cover - Python 2 is not supported, sanity imports only
    http_client = None
    quote = urlencode = urlparse = None

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import (
    InvalidInput,
    ServiceError,
    ServiceUnreachable,
    scrub,
)

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
DEFAULT_TIMEOUT = 30.0
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
NUMBER_LABEL = "com.docker.compose.container-number"
ONEOFF_LABEL = "com.docker.compose.oneoff"
STREAMS = {0: "stdin", 1: "stdout", 2: "stderr"}


def docker_common_argument_spec():
    """Connection options every Docker module accepts."""
    return dict(docker_host=dict(type="str"))


def resolve_host(docker_host=None):
    """The engine address: the option, else ``DOCKER_HOST``, else the default unix socket."""
    return docker_host or os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST


def parse_host(docker_host):
    """``unix:///p`` -> ("unix", "/p"); ``tcp://h:p`` -> ("tcp", (h, p)); else InvalidInput naming docker_host."""
    url = urlparse(docker_host)
    if url.scheme == "unix" and url.path:
        return "unix", url.path
    if url.scheme in ("tcp", "http") and url.hostname:
        try:
            port = url.port or 2375
        except ValueError:
            port = None
        if port:
            return "tcp", (url.hostname, port)
    raise InvalidInput("docker_host: expected unix:///path/to/docker.sock or tcp://host:port, got %r" % scrub(docker_host))


class _UnixConnection(http_client.HTTPConnection if http_client else object):
    """HTTPConnection over an AF_UNIX socket."""

    def __init__(self, path, timeout):
        http_client.HTTPConnection.__init__(self, "localhost", timeout=timeout)
        self.socket_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except Exception:
            sock.close()
            raise
        self.sock = sock


def demultiplex(data):
    """Split the engine's multiplexed log stream into ``[(stream, bytes), ...]``.

    Frames are an 8-byte header (stream type, 3 zero bytes, big-endian uint32 size) then the
    payload.  Data that does not start with a valid header (a TTY container) is returned
    whole as stdout.
    """
    frames, offset = [], 0
    if len(data) >= 8 and (data[0] not in STREAMS or data[1:4] != b"\x00\x00\x00"):
        return [("stdout", data)]
    while offset + 8 <= len(data):
        kind, size = struct.unpack(">BxxxL", data[offset:offset + 8])
        frames.append((STREAMS.get(kind, "stdout"), data[offset + 8:offset + 8 + size]))
        offset += 8 + size
    if offset < len(data):
        frames.append(("stdout", data[offset:]))
    return frames


def log_lines(frames):
    """Frames -> ``[{stream, line}]`` (text, one entry per line, trailing newline removed)."""
    buffers, lines = {}, []
    for stream, payload in frames:
        text = buffers.get(stream, "") + payload.decode("utf-8", "replace")
        parts = text.split("\n")
        buffers[stream] = parts.pop()
        lines.extend({"stream": stream, "line": part} for part in parts)
    lines.extend({"stream": stream, "line": rest} for stream, rest in buffers.items() if rest)
    return lines


def _container_order(summary):
    """Sort key: service, compose container number, id."""
    labels = summary.get("Labels") or {}
    number = labels.get(NUMBER_LABEL, "0")
    return (labels.get(SERVICE_LABEL, ""), int(number) if number.isdigit() else 0, summary["Id"])


class Engine(object):
    """A Docker Engine API client: one HTTP connection per request, bounded by ``timeout``."""

    def __init__(self, docker_host=None, timeout=None):
        self.docker_host = resolve_host(docker_host)
        self.scheme, self.address = parse_host(self.docker_host)
        self.timeout = min(float(timeout), DEFAULT_TIMEOUT) if timeout and timeout > 0 else DEFAULT_TIMEOUT

    def _connection(self, timeout):
        if self.scheme == "unix":
            return _UnixConnection(self.address, timeout)
        return http_client.HTTPConnection(self.address[0], self.address[1], timeout=timeout)

    def request(self, method, path, query=None, body=None, not_found=None, extra_time=0, raw=False):
        """One API request; returns the decoded JSON (or bytes when ``raw``), None for 204/304."""
        if query:
            path += "?" + urlencode([(k, v) for k, v in query.items() if v is not None])
        headers = {"Host": "docker"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        timeout = self.timeout + extra_time
        conn = self._connection(timeout)
        try:
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http_client.HTTPException) as exc:
            raise ServiceUnreachable("Docker engine at %s is unreachable: %s" % (
                scrub(self.docker_host), exc.__class__.__name__ if isinstance(exc, socket.timeout) else scrub(str(exc) or exc.__class__.__name__)))
        finally:
            conn.close()
        if response.status in (204, 304):
            return None
        if response.status >= 400:
            message = self._error_message(data)
            if response.status == 404 and not_found:
                raise ServiceError(not_found)
            raise ServiceError(scrub("Docker engine error %d on %s %s: %s" % (response.status, method, path.split("?")[0], message)))
        if raw:
            return data
        return json.loads(data.decode("utf-8")) if data else None

    @staticmethod
    def _error_message(data):
        try:
            return json.loads(data.decode("utf-8")).get("message") or ""
        except (ValueError, AttributeError, UnicodeDecodeError):
            return data.decode("utf-8", "replace").strip()

    # -- engine -----------------------------------------------------------------------------
    def version(self):
        """``GET /version``: the engine's version document (also a reachability probe)."""
        return self.request("GET", "/version")

    # -- containers -------------------------------------------------------------------------
    def containers(self, project=None, service=None, labels=None, include_stopped=True):
        """Container summaries (``GET /containers/json``) filtered by compose project/service and labels.

        One-off containers (``docker-compose run``) are left out when filtering by project.
        """
        wanted = ["%s=%s" % (k, v) for k, v in sorted((labels or {}).items())]
        if project:
            wanted.append("%s=%s" % (PROJECT_LABEL, project))
        if service:
            wanted.append("%s=%s" % (SERVICE_LABEL, service))
        query = {"all": "1" if include_stopped else "0"}
        if wanted:
            query["filters"] = json.dumps({"label": wanted})
        found = self.request("GET", "/containers/json", query) or []
        if project:
            found = [c for c in found if (c.get("Labels") or {}).get(ONEOFF_LABEL, "False") != "True"]
        return sorted(found, key=_container_order)

    def _path(self, container, suffix=""):
        return "/containers/%s%s" % (quote(container, safe=""), suffix)

    def _missing(self, container):
        return "container %s not found" % container

    def inspect(self, container):
        """``GET /containers/{id}/json``."""
        return self.request("GET", self._path(container, "/json"), not_found=self._missing(container))

    def start(self, container):
        """Start; a container already running is not an error (304)."""
        self.request("POST", self._path(container, "/start"), not_found=self._missing(container))

    def stop(self, container, stop_timeout=10):
        """Stop (SIGTERM, SIGKILL after ``stop_timeout`` s); already stopped is not an error."""
        self.request("POST", self._path(container, "/stop"), {"t": int(stop_timeout)},
                     not_found=self._missing(container), extra_time=stop_timeout)

    def restart(self, container, stop_timeout=10):
        """Restart (stop with ``stop_timeout``, then start)."""
        self.request("POST", self._path(container, "/restart"), {"t": int(stop_timeout)},
                     not_found=self._missing(container), extra_time=stop_timeout)

    def logs(self, container, since=None, tail=None, timestamps=False):
        """Log lines ``[{stream, line}]`` of stdout and stderr, demultiplexed.

        ``since``: UNIX timestamp of the oldest line (int, float, or the engine's ``"sec.nanos"``
        string; inclusive); ``tail``: last N lines.  ``timestamps`` prefixes each line with the
        engine's RFC 3339 time.
        """
        if since is not None and not isinstance(since, str):
            since = "%d" % since if isinstance(since, int) else "%.6f" % float(since)
        query = {"stdout": "1", "stderr": "1", "timestamps": "1" if timestamps else "0",
                 "since": since,
                 "tail": "all" if tail is None else str(int(tail))}
        data = self.request("GET", self._path(container, "/logs"), query, not_found=self._missing(container), raw=True)
        return log_lines(demultiplex(data or b""))

    def create(self, name, config):
        """``POST /containers/create?name=``: returns the new container's id."""
        return self.request("POST", "/containers/create", {"name": name}, body=config)["Id"]

    def rename(self, container, new_name):
        self.request("POST", self._path(container, "/rename"), {"name": new_name}, not_found=self._missing(container))

    def remove(self, container, force=False, volumes=False):
        self.request("DELETE", self._path(container), {"force": "1" if force else "0", "v": "1" if volumes else "0"},
                     not_found=self._missing(container))

    def image(self, name):
        """``GET /images/{name}/json``; ServiceError naming the image when it is not there."""
        return self.request("GET", "/images/%s/json" % quote(name, safe=""),
                            not_found="image %s not found on the engine (pull or load it first)" % name)

    # -- prune ------------------------------------------------------------------------------
    def prune(self, kind, filters=None):
        """``POST /{containers,images,volumes,networks}/prune``: the engine's report (deleted, SpaceReclaimed)."""
        query = {"filters": json.dumps(filters)} if filters else None
        return self.request("POST", "/%s/prune" % kind, query, extra_time=DEFAULT_TIMEOUT) or {}

    def listing(self, kind, filters=None, size=False):
        """``GET /containers/json?all=1``, ``/images/json``, ``/volumes`` or ``/networks`` with ``filters``."""
        path = {"containers": "/containers/json", "images": "/images/json", "volumes": "/volumes", "networks": "/networks"}[kind]
        query = {"filters": json.dumps(filters) if filters else None}
        if kind == "containers":
            query["all"] = "1"
            query["size"] = "1" if size else None
        found = self.request("GET", path, query, extra_time=DEFAULT_TIMEOUT if size else 0)
        return (found or {}).get("Volumes") or [] if kind == "volumes" else (found or [])

    def system_df(self):
        """``GET /system/df``: sizes of images, containers and volumes (volumes' ``UsageData``)."""
        return self.request("GET", "/system/df", extra_time=DEFAULT_TIMEOUT) or {}


def engine(params, timeout=None):
    """An :class:`Engine` for module params (``docker_host``)."""
    return Engine(params.get("docker_host"), timeout)


def container_state(info):
    """The facts opsbook reports for one inspected container."""
    state = info.get("State") or {}
    health = state.get("Health") or {}
    labels = (info.get("Config") or {}).get("Labels") or {}
    return {
        "name": info.get("Name", "").lstrip("/"),
        "id": info.get("Id", "")[:12],
        "service": labels.get(SERVICE_LABEL),
        "image": (info.get("Config") or {}).get("Image"),
        "state": state.get("Status"),
        "running": bool(state.get("Running")),
        "health": health.get("Status"),
        "failing_streak": health.get("FailingStreak"),
        "restarts": info.get("RestartCount", 0),
        "exit_code": state.get("ExitCode"),
        "oom_killed": bool(state.get("OOMKilled")),
        "started_at": state.get("StartedAt"),
        "error": state.get("Error") or None,
    }
