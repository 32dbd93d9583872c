# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way opsbook connects to Apache Kafka (confluent-kafka).

``kafka_common_argument_spec()`` is documented by the doc fragment
``opsbook.runbooks.kafka``; a unit test keeps the two identical.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import (
    MissingDependency,
    ServiceError,
    ServiceUnreachable,
    scrub,
)

try:
    import confluent_kafka
    from confluent_kafka import Consumer, KafkaException
    from confluent_kafka.admin import AdminClient

    HAS_CONFLUENT_KAFKA = True
    CONFLUENT_KAFKA_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised by ansible-test sanity
    HAS_CONFLUENT_KAFKA = False
    CONFLUENT_KAFKA_IMPORT_ERROR = exc


def kafka_common_argument_spec():
    """Connection options every Kafka module accepts."""
    return dict(
        bootstrap_servers=dict(type="list", elements="str", default=["127.0.0.1:9092"]),
        security_protocol=dict(
            type="str",
            default="PLAINTEXT",
            choices=["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"],
        ),
        sasl_mechanism=dict(type="str", choices=["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]),
        sasl_username=dict(type="str"),
        sasl_password=dict(type="str", no_log=True),
        ssl_cafile=dict(type="path"),
        ssl_certfile=dict(type="path"),
        ssl_keyfile=dict(type="path"),
        ssl_key_password=dict(type="str", no_log=True),
        request_timeout=dict(type="float", default=10.0),
    )


def secrets_of(params):
    return [params.get("sasl_password"), params.get("ssl_key_password")]


def describe_target(params):
    return ",".join(params.get("bootstrap_servers") or [])


def client_config(params, extra=None):
    """Map module options to a librdkafka configuration dict."""
    timeout_ms = int(float(params.get("request_timeout") or 10.0) * 1000)
    conf = {
        "bootstrap.servers": describe_target(params),
        "security.protocol": params.get("security_protocol") or "PLAINTEXT",
        "socket.timeout.ms": timeout_ms,
        "socket.connection.setup.timeout.ms": timeout_ms,
        "client.id": "opsbook",
        # librdkafka logs connection failures itself; keep them off stderr.
        "log_level": 0,
    }
    optional = (
        ("sasl_mechanism", "sasl.mechanism"),
        ("sasl_username", "sasl.username"),
        ("sasl_password", "sasl.password"),
        ("ssl_cafile", "ssl.ca.location"),
        ("ssl_certfile", "ssl.certificate.location"),
        ("ssl_keyfile", "ssl.key.location"),
        ("ssl_key_password", "ssl.key.password"),
    )
    for option, key in optional:
        if params.get(option):
            conf[key] = params[option]
    if extra:
        conf.update(extra)
    return conf


def admin_client(params):
    if not HAS_CONFLUENT_KAFKA:
        raise MissingDependency("confluent-kafka", CONFLUENT_KAFKA_IMPORT_ERROR)
    return AdminClient(client_config(params))


def consumer(params, extra=None):
    """A Consumer that never commits (``enable.auto.commit`` off); use ``assign()``, not ``subscribe()``."""
    if not HAS_CONFLUENT_KAFKA:
        raise MissingDependency("confluent-kafka", CONFLUENT_KAFKA_IMPORT_ERROR)
    conf = {"enable.auto.commit": False, "enable.auto.offset.store": False}
    conf.update(extra or {})
    return Consumer(client_config(params, conf))


def kafka_exception_text(exc, params):
    """A one-line, secret-free description of a confluent-kafka error."""
    if HAS_CONFLUENT_KAFKA and isinstance(exc, confluent_kafka.KafkaException) and exc.args:
        err = exc.args[0]
        if isinstance(err, confluent_kafka.KafkaError):
            text = "%s: %s" % (err.name(), err.str())
            return scrub(text, secrets_of(params))
    return scrub(str(exc), secrets_of(params))


def cluster_metadata(admin, params):
    """``list_topics`` bounded by ``request_timeout``; ServiceUnreachable on failure."""
    timeout = float(params.get("request_timeout") or 10.0)
    try:
        return admin.list_topics(timeout=timeout)
    except Exception as exc:  # confluent-kafka raises KafkaException, sometimes plain errors
        raise ServiceUnreachable(
            "cannot reach Kafka at %s within %ss: %s"
            % (describe_target(params), timeout, kafka_exception_text(exc, params))
        )


_UNREACHABLE_CODES = ("_TRANSPORT", "_TIMED_OUT", "_ALL_BROKERS_DOWN", "_RESOLVE", "_WAIT_COORD")
_RETRIABLE_ONCE = ("COORDINATOR_LOAD_IN_PROGRESS", "_WAIT_COORD", "COORDINATOR_NOT_AVAILABLE",
                   "NOT_COORDINATOR")
RETRY_PAUSE = 0.5


def _error_name(exc):
    if exc.args and hasattr(exc.args[0], "name"):
        try:
            return exc.args[0].name()
        except Exception:
            return None
    return None


def request(params, what, send):
    """``send(timeout)`` -> the result of a confluent-kafka future, with error mapping.

    ``COORDINATOR_LOAD_IN_PROGRESS`` (seen right after a broker restart) and its kin
    are retried once.  Timeouts and transport errors become ServiceUnreachable,
    other Kafka errors ServiceError; messages are scrubbed of secrets.
    """
    timeout = float(params.get("request_timeout") or 10.0)
    for attempt in (1, 2):
        try:
            return send(timeout)
        except KafkaException as exc:
            name = _error_name(exc) or ""
            if attempt == 1 and name in _RETRIABLE_ONCE:
                time.sleep(RETRY_PAUSE)
                continue
            text = kafka_exception_text(exc, params)
            if name in _UNREACHABLE_CODES:
                raise ServiceUnreachable("cannot reach Kafka at %s within %ss (%s): %s"
                                         % (describe_target(params), timeout, what, text))
            raise ServiceError("Kafka refused %s: %s" % (what, text))
        except Exception as exc:  # concurrent.futures.TimeoutError and driver errors
            if type(exc).__name__ in ("TimeoutError", "CancelledError"):
                raise ServiceUnreachable("cannot reach Kafka at %s within %ss (%s)"
                                         % (describe_target(params), timeout, what))
            raise ServiceError("%s failed: %s" % (what, kafka_exception_text(exc, params)))
