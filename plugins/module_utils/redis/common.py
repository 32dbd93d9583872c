# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way opsbook connects to Redis (redis-py).

``redis_common_argument_spec()`` is documented by the doc fragment
``opsbook.runbooks.redis``; a unit test keeps the two identical.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import (
    InvalidInput,
    MissingDependency,
    PermissionDenied,
    ServiceError,
    ServiceUnreachable,
    scrub,
)

try:
    import redis

    HAS_REDIS = True
    REDIS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised by ansible-test sanity
    HAS_REDIS = False
    REDIS_IMPORT_ERROR = exc


def redis_common_argument_spec():
    """Connection options every Redis module accepts."""
    return dict(
        url=dict(type="str", no_log=True),
        host=dict(type="str", default="127.0.0.1"),
        port=dict(type="int", default=6379),
        db=dict(type="int", default=0),
        username=dict(type="str"),
        password=dict(type="str", no_log=True),
        tls=dict(type="bool", default=False),
        ca_path=dict(type="path"),
        validate_certs=dict(type="bool", default=True),
        connect_timeout=dict(type="float", default=5.0),
        socket_timeout=dict(type="float", default=10.0),
    )


def describe_target(params):
    if params.get("url"):
        return scrub(params["url"], [params.get("password")])
    return "%s:%s/%s" % (params.get("host"), params.get("port"), params.get("db"))


def client_kwargs(params):
    kwargs = {
        "socket_connect_timeout": params.get("connect_timeout") or 5.0,
        "socket_timeout": params.get("socket_timeout") or 10.0,
        "decode_responses": False,
    }
    if params.get("username"):
        kwargs["username"] = params["username"]
    if params.get("password"):
        kwargs["password"] = params["password"]
    if params.get("tls"):
        kwargs["ssl"] = True
        kwargs["ssl_cert_reqs"] = "required" if params.get("validate_certs", True) else "none"
        if params.get("ca_path"):
            kwargs["ssl_ca_certs"] = params["ca_path"]
    return kwargs


def connect(params):
    """Return a connected client (PING answered) or raise ServiceUnreachable."""
    if not HAS_REDIS:
        raise MissingDependency("redis", REDIS_IMPORT_ERROR)
    secrets = [params.get("password"), params.get("url")]
    kwargs = client_kwargs(params)
    try:
        if params.get("url"):
            kwargs.pop("ssl", None)
            client = redis.Redis.from_url(params["url"], **kwargs)
        else:
            client = redis.Redis(host=params.get("host"), port=params.get("port"), db=params.get("db") or 0, **kwargs)
        client.ping()
    except ValueError as exc:
        raise InvalidInput("url: %s" % scrub(str(exc), secrets))
    except redis.RedisError as exc:
        raise ServiceUnreachable(
            "cannot reach Redis at %s: %s" % (describe_target(params), scrub(str(exc), secrets))
        )
    return client


def response_error(exc, secrets=()):
    """The opsbook error for a Redis error reply: PermissionDenied for an ACL refusal (NOPERM), else ServiceError."""
    text = scrub(str(exc), secrets)
    if isinstance(exc, redis.exceptions.NoPermissionError) or text.startswith("NOPERM"):
        return PermissionDenied("Redis refused it to this ACL user: %s" % text)
    return ServiceError("Redis refused a command: %s" % text)
