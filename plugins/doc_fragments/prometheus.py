# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the Prometheus server (or of anything serving its HTTP API, such as Thanos Query),
        for example C(http://prometheus.monitoring:9090). The module calls C(<url>/api/v1/...).
      - User information in the URL (C(https://user:password@host)) is used for basic authentication
        and never shown in messages.
    type: str
    required: true
  bearer_token:
    description: Token sent as C(Authorization Bearer) (for example a service-account token). Never logged.
    type: str
  username:
    description: User name for basic authentication (a reverse proxy in front of Prometheus).
    type: str
  password:
    description: Password for basic authentication. Never logged.
    type: str
  validate_certs:
    description: Verify the server's TLS certificate and host name for C(https://) URLs.
    type: bool
    default: true
  ca_path:
    description: PEM file with the CA certificates to trust instead of the system store.
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP request before reporting Prometheus unreachable; also sent as the
        query's own evaluation timeout.
    type: float
    default: 10.0
"""
