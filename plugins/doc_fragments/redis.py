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
      - A Redis URL (C(redis://user:password@host:port/db) or C(rediss://) for TLS).
      - When given it takes precedence over O(host), O(port) and O(db). Never logged.
    type: str
  host:
    description: Host name or IP address of the Redis server.
    type: str
    default: 127.0.0.1
  port:
    description: TCP port of the Redis server.
    type: int
    default: 6379
  db:
    description: Logical database number.
    type: int
    default: 0
  username:
    description: ACL user name (Redis 6+). Omit it to authenticate as the default user.
    type: str
  password:
    description: Password (C(AUTH)). Never logged.
    type: str
  tls:
    description: Connect with TLS.
    type: bool
    default: false
  ca_path:
    description: CA bundle used to verify the server certificate when O(tls=true).
    type: path
  validate_certs:
    description: Verify the server certificate when O(tls=true).
    type: bool
    default: true
  connect_timeout:
    description: Seconds to wait for the TCP connection before reporting Redis unreachable.
    type: float
    default: 5.0
  socket_timeout:
    description: Seconds to wait for each reply.
    type: float
    default: 10.0
requirements:
  - redis (redis-py) on the host that runs the module
"""
