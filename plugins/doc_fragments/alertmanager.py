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
      - Base URL of the Alertmanager, for example C(http://alertmanager.monitoring:9093). The module calls
        C(<url>/api/v2/...).
      - User information in the URL (C(https://user:password@host)) is used for basic authentication
        and never shown in messages.
    type: str
    required: true
  bearer_token:
    description: Token sent as C(Authorization Bearer) (a reverse proxy in front of Alertmanager). Never logged.
    type: str
    aliases: [token]
  username:
    description: User name for basic authentication.
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
    description: Seconds to wait for each HTTP request before reporting Alertmanager unreachable.
    type: float
    default: 10.0
"""
