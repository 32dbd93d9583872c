# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  bootstrap_servers:
    description: Kafka bootstrap servers as C(host:port) entries.
    type: list
    elements: str
    default: ["127.0.0.1:9092"]
  security_protocol:
    description: Protocol used to talk to the brokers.
    type: str
    default: PLAINTEXT
    choices: [PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL]
  sasl_mechanism:
    description: SASL mechanism when O(security_protocol) is C(SASL_PLAINTEXT) or C(SASL_SSL).
    type: str
    choices: [PLAIN, SCRAM-SHA-256, SCRAM-SHA-512]
  sasl_username:
    description: SASL user name.
    type: str
  sasl_password:
    description: SASL password. Never logged.
    type: str
  ssl_cafile:
    description: CA certificate used to verify the brokers.
    type: path
  ssl_certfile:
    description: Client certificate for mutual TLS.
    type: path
  ssl_keyfile:
    description: Private key of O(ssl_certfile).
    type: path
  ssl_key_password:
    description: Password of O(ssl_keyfile). Never logged.
    type: str
  request_timeout:
    description:
      - Seconds every request to the cluster may take. An unreachable cluster is
        reported within this time, never as a hang.
    type: float
    default: 10.0
requirements:
  - confluent-kafka on the host that runs the module
"""
