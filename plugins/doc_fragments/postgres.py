# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  host:
    description:
      - Host name or IP address of the PostgreSQL server.
      - A value starting with C(/) is the directory of a Unix socket, as with libpq.
    type: str
    default: 127.0.0.1
    aliases: [login_host]
  port:
    description: TCP port (or socket suffix) of the server.
    type: int
    default: 5432
    aliases: [login_port]
  user:
    description: Role to connect as.
    type: str
    default: postgres
    aliases: [login_user]
  password:
    description:
      - Password of O(user). Never logged; omit it to use C(~/.pgpass) or C(PGPASSWORD).
    type: str
    aliases: [login_password]
  database:
    description: Database to connect to.
    type: str
    default: postgres
    aliases: [db, login_db]
  sslmode:
    description: libpq SSL mode.
    type: str
    default: prefer
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
  sslrootcert:
    description: CA certificate file used to verify the server with O(sslmode=verify-ca) or O(sslmode=verify-full).
    type: path
  connect_timeout:
    description: Seconds to wait for the connection before reporting the server unreachable.
    type: int
    default: 5
  statement_timeout:
    description: Server-side timeout of each statement, in milliseconds (0 disables it).
    type: int
    default: 30000
requirements:
  - psycopg2 (psycopg2-binary) on the host that runs the module
"""
